"""The app as NiceGUI's `user` fixture runs it (with runpy, as __main__): real content, echo server on a free port."""

import tempfile
from pathlib import Path

from nicegui import ui

from lesson import app
from lesson.config import Config
from lesson.web.ports import bind_listening_socket

if __name__ == '__main__':
    config = Config(
        echo_port=0, storage_secret='user-fixture-secret', data_dir=Path(tempfile.mkdtemp(prefix='lesson-ui-test-'))
    )
    echo_socket = bind_listening_socket(config.echo_host, 0, '--echo-port')
    app.build(config, echo_socket, app_port=config.port)
    ui.run(storage_secret=config.storage_secret)
