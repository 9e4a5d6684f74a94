pytest_plugins = ["tests.plugins.localstripe"]
