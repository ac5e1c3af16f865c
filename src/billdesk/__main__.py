from billdesk.cli import main

raise SystemExit(main())
