from apg_workflow.cli import main

main()
