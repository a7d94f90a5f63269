from csops_cli.entry import main

main()
