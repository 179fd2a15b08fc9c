use leptos::prelude::*;
use leptos_meta::Title;

use super::guard::guarded;
use crate::access::Area;
use crate::model::Role;
use crate::people::list_people;
use super::failure;

/// The admin's start page: the state of the team at a glance.
#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <Title text="Admin"/>
        {guarded(Area::Admin, |_| view! { <Overview/> })}
    }
}

#[component]
fn Overview() -> impl IntoView {
    let people = Resource::new(|| (), |_| list_people());
    view! {
        <section class="card">
            <h1>"Admin"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match people.await {
                        Ok(people) => {
                            let active = people.iter().filter(|person| !person.disabled);
                            let count = |role: Role| active.clone().filter(|person| person.role == role).count();
                            let disabled = people.iter().filter(|person| person.disabled).count();
                            view! {
                                <div class="tiles">
                                    <div class="tile"><span class="figure" data-testid="count-agents">{count(Role::Agent)}</span>"representatives"</div>
                                    <div class="tile"><span class="figure">{count(Role::Supervisor)}</span>"supervisors"</div>
                                    <div class="tile"><span class="figure">{count(Role::Admin)}</span>"admins"</div>
                                    <div class="tile"><span class="figure">{disabled}</span>"disabled accounts"</div>
                                </div>
                            }.into_any()
                        }
                        Err(error) => failure(error),
                    }
                })}
            </Suspense>
            <p class="row">
                <a class="button" href="/admin/people">"Manage people"</a>
                <a class="button" href="/admin/queues">"Manage queues"</a>
            </p>
        </section>
    }
}
