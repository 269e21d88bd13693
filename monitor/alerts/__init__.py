"""Alerts: a durable outbox delivered by email and signed webhooks.

config    the [alerts] table, validated (secrets only as env names or file paths)
payload   pure: the versioned JSON documents that describe an alert
render    pure: email (text + HTML) and Slack/Mattermost bodies, all feed text escaped
enqueue   rows written inside the pipeline's transaction (items, notices, feed health)
channels  one delivery attempt over SMTP or HTTP, its outcome as a value
dispatch  claim due rows, deliver, mark; backoff, horizon, digests, crash recovery
"""
