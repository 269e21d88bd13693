from monitor.cli.main import main

if __name__ == "__main__":  # parser worker processes import this module too
    main()
