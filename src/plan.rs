//! Test plans: for each selected function, a generator for every argument, or the precise reason it cannot be tested.

use std::cell::RefCell;
use std::collections::BTreeMap;

use syn::{ReturnType, Type};

mod adt;
mod call;
mod classify;
mod describe;
mod generics;
#[cfg(test)]
mod tests;
mod ty;

pub use describe::ArgumentText;
pub use ty::*;

use adt::*;
use call::*;
use classify::*;
use generics::*;

use crate::select::{ChangedFn, FnKind};
use crate::types::CrateTypes;

/// One argument of the function under test.
#[derive(Debug, Clone)]
pub struct ArgPlan {
    pub ty: Ty,
    /// The argument involves a type the harness cannot name: the wrapper takes its mirror and
    /// builds the value inside the crate.
    pub in_crate: bool,
    /// The type exactly as written, for the injected wrapper's signature.
    pub written: Type,
}

/// How the harness calls a function: its arguments, or why it cannot.
#[derive(Debug, Clone)]
pub enum Plan {
    Call(Box<CallPlan>),
    Skip(String),
}

#[derive(Debug, Clone)]
pub struct CallPlan {
    pub args: Vec<ArgPlan>,
    /// The return type with `Self` replaced by the impl's type, for the wrapper.
    pub ret: ReturnType,
    /// How the wrapper reaches the function from the entry module (`super::f`, `super::Type::f`).
    pub callee: syn::ExprPath,
    /// The wrapper's generics: the function's, minus the type parameters instantiated here.
    pub generics: syn::Generics,
    /// What the wrapper does with the result.
    pub result: ResultUse,
}

/// What the wrapper does with the function's result: one decision, made by the planner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultUse {
    /// Returned as is, for the harness to observe and compare with the base's.
    Return,
    /// Its type cannot be named (`impl Trait`, or a borrow whose lifetime became ambiguous):
    /// dropped.
    Discard,
    /// An `impl Iterator`: up to `DRAIN_CAP` items collected, so lazy panics show.
    Drain,
    /// Its type cannot be named by the harness: its `Debug` text, made inside the crate.
    ObserveInCrate,
    /// A formatting trait's `fmt`: the receiver formatted with this format string (`"{}"`,
    /// `"{:?}"`) and the text returned, so a panic inside `fmt` is a finding.
    Format(&'static str),
}

/// Formatting traits, by name, and the format string that calls their `fmt`.
const FORMAT_TRAITS: &[(&str, &str)] = &[
    ("Display", "{}"),
    ("Debug", "{:?}"),
    ("LowerHex", "{:x}"),
    ("UpperHex", "{:X}"),
    ("Binary", "{:b}"),
    ("Octal", "{:o}"),
    ("LowerExp", "{:e}"),
    ("UpperExp", "{:E}"),
];

/// The format string for `f` when it is a formatting trait's `fmt`.
pub fn format_spec(f: &ChangedFn) -> Option<&'static str> {
    let FnKind::TraitImpl { trait_path, .. } = &f.kind else {
        return None;
    };
    let name = trait_path.segments.last()?.ident.to_string();
    if f.name != "fmt" {
        return None;
    }
    FORMAT_TRAITS
        .iter()
        .find(|(t, _)| *t == name)
        .map(|(_, spec)| *spec)
}

const PRIMS: &[&str] = &[
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "f32",
    "f64", "bool", "char",
];

/// Plans a call to `f`, or says why it cannot be made; `types` are the crate's own types.
pub fn plan(f: &ChangedFn, types: &CrateTypes) -> Plan {
    if let Some(reason) = &f.skip {
        return Plan::Skip(reason.clone());
    }
    match plan_call(f, types) {
        Ok(p) => Plan::Call(Box::new(p)),
        Err(reason) => Plan::Skip(reason),
    }
}

/// What a written type means where the function is: the crate's types, `Self`, and the
/// concrete types chosen for type parameters.
pub struct Env<'a> {
    types: &'a CrateTypes,
    module: &'a [String],
    self_ty: Option<&'a Type>,
    /// Type parameter name → the concrete type it is instantiated with.
    subst: BTreeMap<String, Type>,
    /// Crate types being resolved, to stop at recursive ones.
    visiting: RefCell<Vec<String>>,
}

impl<'a> Env<'a> {
    pub fn new(types: &'a CrateTypes, module: &'a [String], self_ty: Option<&'a Type>) -> Self {
        Env {
            types,
            module,
            self_ty,
            subst: BTreeMap::new(),
            visiting: RefCell::new(Vec::new()),
        }
    }
}

/// The generator tree for a type that names no crate type.
#[cfg(test)]
pub fn classify_type(ty: &Type) -> Result<Ty, String> {
    Env::new(&CrateTypes::default(), &[], None).classify(ty)
}
