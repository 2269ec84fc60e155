"""The demo page's live panels: NiceGUI custom components (a Python element and its Vue ``.js`` file each).

The page server builds each panel once, with its set-up as props (the session's addresses, the learner text from
``content/``); from then on the panel runs in the learner's browser, fed by the page's own sockets and by the
inspection stream (``demos/static/demo_hub.js``). Nothing per update travels through the page server.
"""
