"""What talks to SQL databases: the engines (SQLite or PostgreSQL), the history archive's export, the intake's
record of what it published, and the processors' local copy of their changelogs."""
