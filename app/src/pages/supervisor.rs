use leptos::prelude::*;
use leptos_meta::Title;

use super::guard::guarded;
use super::when;
use crate::access::Area;
use crate::people::team;
use super::failure;

/// The supervisor's overview of the team.
#[component]
pub fn SupervisorPage() -> impl IntoView {
    view! {
        <Title text="Supervisor"/>
        {guarded(Area::Supervisor, |_| view! { <Team/> })}
    }
}

#[component]
fn Team() -> impl IntoView {
    let people = Resource::new(|| (), |_| team());
    view! {
        <section class="card">
            <h1>"Team"</h1>
            <p class="muted">"Everyone with an active account, and when they last signed in."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match people.await {
                        Ok(people) => view! {
                            <table>
                                <thead><tr><th>"Name"</th><th>"Role"</th><th>"Last sign-in"</th></tr></thead>
                                <tbody>
                                    {people.into_iter().map(|person| view! {
                                        <tr>
                                            <td>{person.display_name}</td>
                                            <td>{person.role.label()}</td>
                                            <td>{when(person.last_sign_in_at)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(error) => failure(error),
                    }
                })}
            </Suspense>
        </section>
    }
}
