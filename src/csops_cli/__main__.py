from csops_cli.cli import main

main()
