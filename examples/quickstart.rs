//! The tour of Viben's data layer. For now it shows the shared model types; the store and the
//! database join as their crates land.

use viben::model::{AgentConfig, NewUser};

fn main() {
    let agent = AgentConfig::new("my-agent", "My Agent", "claude-3-sonnet", "anthropic");
    match agent.validate() {
        Ok(()) => println!("agent {} is valid", agent.id),
        Err(err) => println!("agent {} is invalid: {err}", agent.id),
    }
    let new_user = NewUser::new("not-an-email", "ada");
    if let Err(err) = new_user.validate() {
        println!("refused as expected: {err}");
    }
}
