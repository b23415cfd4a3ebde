"""Command-line interface: ``deeppot <command>``; see :mod:`deeppot.cli.main`."""
