# The customer side of Switchboard, in English: the page, the widget's
# panel. One message per text; a translation keeps every id (a test fails
# when one is missing). Messages with { $variables } are formatted by the
# server; the rest travel to the browser with the page.

## The start page and the request form

welcome-title = Talk to a real person
welcome-lead = Our team helps you by video, voice, chat or a call back. You always see where you are in the line and about how long the wait is.
loading = Loading…
form-title = Talk to a representative
form-name = Your name
form-reason = What do you need help with?
form-topic = Topic
form-channels = How would you like to talk?
form-chat-beside-call = Can't hear or speak? A chat is always beside the call: you can write instead at any time.
form-phone = Phone number (with country code)
form-submit = Talk to a representative
form-signed-in-as = Signed in as
form-closed-now = We are closed now and open
form-closed-callback = Leave your number and we call you back then.
channel-video = Video
channel-audio = Audio only
channel-chat = Chat
channel-callback = Call me back
window-label = When should we call?
window-soon = As soon as possible

## While waiting

page-title = Get help
not-queued-title = You have not entered the line yet
not-queued-text = Your request is ready: you will see your place here as soon as it enters the line.
closed-title = You are no longer in line
line-reconnecting = Your representative lost their connection. We are reconnecting you: you are back at the front of the line.
line-turn-near = It's nearly your turn: stay on this page.
line-keep-open = Keep this page open: you keep your place even if you reload it.
switch-callback = Call me back instead
switch-callback-submit = Call me back
switch-keep = Keep my place and notify me
switch-keep-submit = Keep my place
switch-email = Email me too (optional)
switch-allow-notifications = Allow notifications so this page can tell you when your turn is near.

## The conversation and after

call-connecting = Connecting the call…
call-end = End conversation
ended-title = Your conversation has ended
ended-thanks = Thank you for reaching out.
rate-legend = How did we do? (1 = poor, 5 = excellent)
rate-comment = Comment (optional)
rate-submit = Send rating
rate-thanks = Thank you for your rating!
ask-again = Ask for help again
