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
