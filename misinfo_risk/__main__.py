from misinfo_risk.cli import main

raise SystemExit(main())
