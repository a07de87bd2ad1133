//! `viben init` and `viben check`: the store as a whole.

use crate::context::Context;
use crate::failure::Failure;

pub(crate) fn init(context: &Context) -> Result<(), Failure> {
    let store = context.store()?;
    store.init()?;
    println!("store ready at {}", store.layout().root().display());
    Ok(())
}

/// Prints every problem as `path:line:column: message`; fails when there is any.
pub(crate) fn check(context: &Context) -> Result<(), Failure> {
    let store = context.store()?;
    let problems = store.check();
    for problem in &problems {
        println!("{problem}");
    }
    match problems.len() {
        0 => {
            println!("no problems in {}", store.layout().root().display());
            Ok(())
        }
        n => Err(Failure::with_hint(
            format!("{n} problem(s) in {}", store.layout().root().display()),
            "fix each file at the line shown, then run `viben check` again",
        )),
    }
}
