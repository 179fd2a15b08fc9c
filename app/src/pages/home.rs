use leptos::prelude::*;
use leptos_meta::Title;

/// The customers' start page.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Get help"/>
        <section class="hero">
            <h1>"Talk to a real person"</h1>
            <p class="lead">
                "Our team helps you by video, voice, chat or a call back. "
                "You always see where you are in the line and about how long the wait is."
            </p>
        </section>
        <section class="card">
            <h2>"How it works"</h2>
            <ol class="steps">
                <li>"Tell us your name and what you need help with."</li>
                <li>"Wait in line: your place and the expected wait update live."</li>
                <li>"A representative joins you, by video, audio or chat, or calls you back."</li>
            </ol>
        </section>
    }
}
