"""The decision mechanism (issue 5): service API, repository, signed links, notifications, bulk path, demo."""
