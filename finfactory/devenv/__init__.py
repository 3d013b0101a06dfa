"""Development bootstrap (`python -m finfactory.devenv exec -- CMD`): see __main__.py."""
