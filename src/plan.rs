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
    Skip(SkipReason),
}

/// Why a function is not tested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// Decided when it was selected (an `unsafe fn`, a `const fn` in a trait, …), in the
    /// selection's words.
    Selection(String),
    /// `Drop::drop`, which runs only when a value goes away.
    Drop,
    /// A const generic parameter, on the function or on its impl.
    ConstGeneric {
        on_impl: bool,
    },
    Variadic,
    SelfOutsideImpl,
    /// No type the harness can make meets a type parameter's bounds.
    TypeParameter {
        name: String,
        on_impl: bool,
        why: String,
    },
    /// No type the harness can make meets an `impl Trait` argument's bounds.
    ImplTraitArgument {
        name: String,
        written: String,
        why: String,
    },
    /// An argument's type cannot be generated.
    Argument {
        name: String,
        why: String,
    },
    /// The receiver's type cannot be generated.
    Receiver {
        written: String,
        why: String,
    },
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Selection(why) => f.write_str(why),
            SkipReason::Drop => {
                f.write_str("`Drop::drop` runs when a value goes away; it cannot be called")
            }
            SkipReason::ConstGeneric { on_impl: true } => {
                f.write_str("method of an impl with a const parameter: not supported yet")
            }
            SkipReason::ConstGeneric { on_impl: false } => {
                f.write_str("generic function with a const parameter: not supported yet")
            }
            SkipReason::Variadic => f.write_str("variadic function"),
            SkipReason::SelfOutsideImpl => f.write_str("`self` outside an impl"),
            SkipReason::TypeParameter {
                name,
                on_impl: true,
                why,
            } => write!(
                f,
                "method of a generic impl (type parameter `{name}`): {why}"
            ),
            SkipReason::TypeParameter { name, why, .. } => {
                write!(f, "generic function (type parameter `{name}`): {why}")
            }
            SkipReason::ImplTraitArgument { name, written, why } => {
                write!(f, "argument `{name}` (`{written}`): {why}")
            }
            SkipReason::Argument { name, why } => write!(f, "argument `{name}`: {why}"),
            SkipReason::Receiver { written, why } => write!(f, "receiver `{written}`: {why}"),
        }
    }
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
    /// The types chosen for the function's own type parameters, in order, for a call outside
    /// the harness (a regression test) that cannot infer them (`median::<i32>(&[])`); empty
    /// when it has none, or one of them names a type only the harness can.
    pub type_args: Vec<Type>,
    /// The impl's self type with the impl's type parameters instantiated, when that changed it
    /// (a blanket `impl<T: AsRef<[u8]>> ToHex for T` is called on `Vec<u8>`).
    pub instantiated_self: Option<Type>,
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
        return Plan::Skip(SkipReason::Selection(reason.clone()));
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
