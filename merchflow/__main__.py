from merchflow.cli import main

main()
