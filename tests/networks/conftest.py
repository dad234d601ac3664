"""tests/networks gets `network_emulator` from the plugin tests/conftest.py registers
(`pytest_plugins = ["tests.emulator_fixture"]`). Not repeated here: pytest refuses
`pytest_plugins` outside the top-level conftest when the whole suite is collected, and a
re-imported fixture would shadow the plugin's and start a second emulator process.
"""
