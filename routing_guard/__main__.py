from routing_guard.cli import main

raise SystemExit(main())
