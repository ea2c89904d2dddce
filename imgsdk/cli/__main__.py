"""``python -m imgsdk.cli``."""

from . import main

raise SystemExit(main())
