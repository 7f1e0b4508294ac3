from notecards.cli import main

if __name__ == "__main__":  # not when a spawned render worker imports it
    main()
