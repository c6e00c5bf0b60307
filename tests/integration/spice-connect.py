#!/usr/bin/python3
# A real SPICE client, headless: spice-gtk's GLib library (Debian's
# gir1.2-spiceclientglib-2.0) opens the main channel of HOST PORT with
# PASSWORD, as remote-viewer does first. Prints "opened" (exit 0), or the
# channel's error ("auth", "connect", ...; exit 2), or "timeout" (exit 3).
import sys

import gi

gi.require_version('SpiceClientGLib', '2.0')
from gi.repository import GLib, GObject, SpiceClientGLib  # noqa: E402

host, port, password = sys.argv[1:4]
loop = GLib.MainLoop()
outcome = {'text': 'timeout', 'code': 3}


def on_event(channel, event):
    E = SpiceClientGLib.ChannelEvent
    if event == E.OPENED:
        outcome.update(text='opened', code=0)
    elif event == E.ERROR_AUTH:
        outcome.update(text='auth', code=2)
    elif event in (E.ERROR_CONNECT, E.ERROR_TLS, E.ERROR_LINK, E.ERROR_IO, E.CLOSED):
        outcome.update(text=event.value_nick, code=2)
    else:
        return
    loop.quit()


def on_channel(session, channel):
    if isinstance(channel, SpiceClientGLib.MainChannel):
        # Session and Channel have a connect() of their own: the signal's is GObject's.
        GObject.Object.connect(channel, 'channel-event', on_event)


session = SpiceClientGLib.Session()
session.set_property('host', host)
session.set_property('port', port)
session.set_property('password', password)
GObject.Object.connect(session, 'channel-new', on_channel)
if not session.connect():
    print('connect')
    sys.exit(2)
GLib.timeout_add_seconds(20, loop.quit)
loop.run()
session.disconnect()
print(outcome['text'])
sys.exit(outcome['code'])
