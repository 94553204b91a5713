"""`python -m hyperdial ...` runs the command line, like the `hyperdial` script."""

from hyperdial.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
