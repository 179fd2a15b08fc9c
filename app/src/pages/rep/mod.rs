//! The representative's desk (`/rep`): the bar with their state and
//! channels, offers, their conversations (each with its call, chat, handing
//! on and wrap-up) and the customer's details.
//!
//! One file per part of the screen. Like every component, each returns its
//! view type-erased (`--cfg erase_components`, `.cargo/config.toml`), so the
//! conversation's parts (head, call, handing on, chat, wrap-up, details) are
//! components of their own rather than one view nesting them all.

mod bar;
mod callback;
mod controls;
mod conversation;
mod details;
mod offers;
mod transfer;
mod workspace;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::access::Area;
use crate::desk::open_desk;
use crate::model::Me;
use crate::pages::failure;
use crate::pages::guard::guarded;
use controls::Controls;
use workspace::DeskBody;

/// The representative's desk.
#[component]
pub fn RepPage() -> impl IntoView {
    view! {
        <Title text="Desk"/>
        {guarded(Area::Rep, |me| view! { <DeskView me/> })}
    }
}

#[component]
fn DeskView(me: Me) -> impl IntoView {
    let initial = Resource::new(|| (), |_| open_desk());
    let controls = Controls::new();
    crate::live::follow("/ws/rep", controls.pushed.write_only());
    let notice = RwSignal::new(None::<String>);
    Effect::new(move |_| match controls.next.value().get() {
        Some(Ok(None)) => notice.set(Some("Nobody is waiting right now.".into())),
        Some(Ok(Some(_))) => notice.set(None),
        Some(Err(failure)) => controls.error.set(Some(failure.to_string())),
        None => {}
    });

    let me = StoredValue::new(me);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Opening your desk…"</p> }>
            {move || Suspend::new(async move {
                match initial.await {
                    Ok(desk) => {
                        controls.opened.set(Some(desk));
                        view! { <DeskBody me=me.get_value() controls notice/> }.into_any()
                    }
                    Err(error) => failure(error),
                }
            })}
        </Suspense>
    }
}
