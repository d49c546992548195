"""The Textual chat app: `rag chat` (and the README's first command) opens it.

    app.py       the App: layout, keys, commands, background workers
    widgets.py   the chat input, question and answer views, sources panel, status bar
    screens.py   the passage and help screens
    commands.py  pure: slash commands parsed
    render.py    pure: answers with check marks, chats as Markdown briefings
    app.tcss     the one stylesheet
"""
