from compose.cli import main

main()
