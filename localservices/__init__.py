"""Local MariaDB/Redis servers and node processes that the project starts itself."""
