//! The planned types: `Ty` (what the harness generates for an argument), the crate types as `AdtDef`s with their shapes, and their std mirrors.

/// An argument type the harness knows how to generate, as a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// A primitive scalar: integers, floats, `bool`, `char` (the name as written, e.g. `u32`).
    Prim(&'static str),
    Unit,
    String,
    /// `str`, only behind a reference.
    Str,
    /// `[T]`, only behind a reference.
    Slice(Box<Ty>),
    Ref {
        mutable: bool,
        inner: Box<Ty>,
    },
    Vec(Box<Ty>),
    Option(Box<Ty>),
    Result(Box<Ty>, Box<Ty>),
    Box(Box<Ty>),
    Array(Box<Ty>, usize),
    Tuple(Vec<Ty>),
    Map {
        ordered: bool,
        key: Box<Ty>,
        value: Box<Ty>,
    },
    Set {
        ordered: bool,
        key: Box<Ty>,
    },
    /// `Cow<str>`, generated as a `String` and passed borrowed.
    CowStr,
    /// A struct or enum of the crate, generated from its fields.
    Adt(Box<AdtDef>),
    /// A std wrapper made from a generated value of `inner`: `Rc`, `Arc`, `Cell`, `RefCell`,
    /// `Wrapping`, or a `NonZero` integer (zero becomes the type's `MIN`).
    Wrap {
        kind: Wrap,
        inner: Box<Ty>,
    },
    /// A closure (`impl Fn(A, B) -> R`, or a type parameter bounded so) that ignores its
    /// arguments and returns a generated value of `ret`.
    Closure {
        arity: usize,
        ret: Box<Ty>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrap {
    Rc,
    Arc,
    Cell,
    RefCell,
    Wrapping,
    /// `NonZeroU32` and its kin; the name is the std type's (`NonZeroU32`).
    NonZero(&'static str),
    /// `Duration`, from whole seconds (`u64`) and nanoseconds (`u32`, taken modulo 10⁹ so the
    /// constructor cannot panic).
    Duration,
    /// `PathBuf` (and `Path` behind a reference), from a `String`.
    PathBuf,
    /// `OsString` (and `OsStr` behind a reference), from a `String`.
    OsString,
}

impl Wrap {
    /// The std path of the wrapper type.
    pub fn path(self) -> &'static str {
        match self {
            Wrap::Rc => "std::rc::Rc",
            Wrap::Arc => "std::sync::Arc",
            Wrap::Cell => "std::cell::Cell",
            Wrap::RefCell => "std::cell::RefCell",
            Wrap::Wrapping => "std::num::Wrapping",
            Wrap::NonZero(_) => "std::num",
            Wrap::Duration => "std::time::Duration",
            Wrap::PathBuf => "std::path::PathBuf",
            Wrap::OsString => "std::ffi::OsString",
        }
    }
}

/// The `NonZero` integer types, with the primitive each wraps.
pub(super) const NON_ZERO: &[(&str, &str)] = &[
    ("NonZeroU8", "u8"),
    ("NonZeroU16", "u16"),
    ("NonZeroU32", "u32"),
    ("NonZeroU64", "u64"),
    ("NonZeroU128", "u128"),
    ("NonZeroUsize", "usize"),
    ("NonZeroI8", "i8"),
    ("NonZeroI16", "i16"),
    ("NonZeroI32", "i32"),
    ("NonZeroI64", "i64"),
    ("NonZeroI128", "i128"),
    ("NonZeroIsize", "isize"),
];

/// A struct or enum of the crate whose fields can all be generated. The harness generates a
/// *mirror* of it made of std types (its fields as a tuple; for an enum a variant tag and the
/// payloads), and a constructor injected next to the type turns the mirror into the value, so
/// private fields are no obstacle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdtDef {
    pub name: String,
    /// Module path of the declaring module.
    pub module: Vec<String>,
    pub shape: Shape,
    /// How many lifetime parameters it has (its values then borrow from the mirror).
    pub lifetimes: usize,
    /// The type arguments of a generic type (`i32` for `Stack<i32>`), as source text, and the
    /// names of the parameters they stand for.
    pub type_args: Vec<String>,
    pub type_params: Vec<String>,
    /// Other crates (the harness) can name the type.
    pub reachable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    Struct(Fields),
    /// Variants in declaration order, with their fields.
    Enum(Vec<(String, Fields)>),
    /// Built with one of the type's own constructors (when its fields cannot all be
    /// generated): associated functions taking no `self`, or `Default`.
    Ctors(Vec<Ctor>),
    /// A receiver: a value of `base`, then a generated sequence of calls to its `&mut self`
    /// methods (each a `Ctor` of kind `Plain`), so states only its methods reach are tried.
    Steps {
        base: Box<AdtDef>,
        methods: Vec<Ctor>,
    },
}

/// One way to build a value with the type's own code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ctor {
    /// The associated function's name (`new`), or `default`.
    pub name: String,
    pub kind: CtorKind,
    /// Its arguments, as tuple fields.
    pub args: Fields,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CtorKind {
    /// Returns `Self`.
    Plain,
    /// Returns `Option<Self>`: `None` rejects the input.
    Option,
    /// Returns `Result<Self, _>`: `Err` rejects the input.
    Result,
    /// `Default::default()`.
    Default,
}

/// Most constructors tried per type.
pub(super) const MAX_CTORS: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fields {
    Named(Vec<(String, Ty)>),
    Tuple(Vec<Ty>),
    Unit,
}

impl Fields {
    pub fn types(&self) -> Vec<&Ty> {
        match self {
            Fields::Named(f) => f.iter().map(|(_, t)| t).collect(),
            Fields::Tuple(t) => t.iter().collect(),
            Fields::Unit => Vec::new(),
        }
    }
}

/// Most elements of one mirror tuple (the harness implements its traits up to 8); longer lists
/// nest in tuples of 8.
pub(super) const MIRROR_ARITY: usize = 8;

/// Tuples holding `tys`, nested by eights, and the index path to each element.
pub(super) fn pack(tys: Vec<Ty>) -> (Ty, Vec<Vec<usize>>) {
    match tys.len() {
        0 => (Ty::Unit, Vec::new()),
        n if n <= MIRROR_ARITY => (Ty::Tuple(tys), (0..n).map(|i| vec![i]).collect()),
        n => {
            let mut chunks = Vec::new();
            let mut paths = Vec::new();
            for (c, chunk) in tys.chunks(MIRROR_ARITY).enumerate() {
                chunks.push(Ty::Tuple(chunk.to_vec()));
                paths.extend((0..chunk.len()).map(|i| vec![c, i]));
            }
            debug_assert_eq!(paths.len(), n);
            (Ty::Tuple(chunks), paths)
        }
    }
}

/// Where each part of a mirror is: the index path of every field (of a struct), or of the tag
/// and of each variant's payload fields (of an enum). For a receiver with steps, `tag` and
/// `fields` are paths inside one step.
pub struct MirrorLayout {
    pub ty: Ty,
    /// For an enum: the path of the variant tag (a `u8`).
    pub tag: Vec<usize>,
    /// Per variant (one entry for a struct): the index path of each field.
    pub fields: Vec<Vec<Vec<usize>>>,
}

impl AdtDef {
    /// The mirror type and where each field sits in it.
    pub fn mirror(&self) -> MirrorLayout {
        match &self.shape {
            Shape::Struct(f) => {
                let (ty, paths) = pack(f.types().into_iter().cloned().collect());
                MirrorLayout {
                    ty,
                    tag: Vec::new(),
                    fields: vec![paths],
                }
            }
            Shape::Steps { base, .. } => {
                let step = AdtDef {
                    name: self.name.clone(),
                    module: self.module.clone(),
                    shape: Shape::Ctors(match &self.shape {
                        Shape::Steps { methods, .. } => methods.clone(),
                        _ => unreachable!(),
                    }),
                    lifetimes: 0,
                    type_args: Vec::new(),
                    type_params: Vec::new(),
                    reachable: true,
                }
                .mirror();
                MirrorLayout {
                    ty: Ty::Tuple(vec![Ty::Adt(base.clone()), Ty::Vec(Box::new(step.ty))]),
                    tag: step.tag,
                    fields: step.fields,
                }
            }
            Shape::Enum(_) | Shape::Ctors(_) => {
                let variants = self.variant_fields();
                let mut parts = vec![Ty::Prim("u8")];
                let mut owners = Vec::new();
                for (v, f) in variants.iter().enumerate() {
                    for t in f.types() {
                        parts.push(t.clone());
                        owners.push(v);
                    }
                }
                let (ty, paths) = pack(parts);
                let mut fields = vec![Vec::new(); variants.len()];
                for (path, v) in paths.iter().skip(1).zip(owners) {
                    fields[v].push(path.clone());
                }
                MirrorLayout {
                    ty,
                    tag: paths[0].clone(),
                    fields,
                }
            }
        }
    }

    /// The fields of each variant (one for a struct, one per constructor or method).
    pub fn variant_fields(&self) -> Vec<&Fields> {
        match &self.shape {
            Shape::Struct(f) => vec![f],
            Shape::Enum(v) => v.iter().map(|(_, f)| f).collect(),
            Shape::Ctors(c) | Shape::Steps { methods: c, .. } => {
                c.iter().map(|c| &c.args).collect()
            }
        }
    }

    /// Distinguishes the step-sequence form of a receiver type from the type itself.
    pub fn key(&self) -> String {
        let steps = if matches!(self.shape, Shape::Steps { .. }) {
            "+steps"
        } else {
            ""
        };
        format!(
            "{}::{}<{}>{steps}",
            self.module.join("::"),
            self.name,
            self.type_args.join(",")
        )
    }

    /// Every crate type this one is built from, itself included, each once.
    pub fn collect_adts<'a>(&'a self, out: &mut Vec<&'a AdtDef>) {
        if out.iter().any(|d| d.key() == self.key()) {
            return;
        }
        out.push(self);
        if let Shape::Steps { base, .. } = &self.shape {
            base.collect_adts(out);
        }
        for f in self.variant_fields() {
            for t in f.types() {
                t.collect_adts(out);
            }
        }
    }
}

impl Ty {
    /// Whether a value of this type is its own mirror: no borrows, crate types or wrappers,
    /// so the harness passes a clone of the generated value as is.
    pub fn is_plain(&self) -> bool {
        !self.has_ref() && !self.has_adt() && !self.has_wrap()
    }

    /// The types directly inside this one (not inside a crate type's fields).
    pub(super) fn children(&self) -> Vec<&Ty> {
        match self {
            Ty::Prim(_) | Ty::Unit | Ty::String | Ty::Str | Ty::CowStr | Ty::Adt(_) => Vec::new(),
            Ty::Slice(t)
            | Ty::Ref { inner: t, .. }
            | Ty::Vec(t)
            | Ty::Option(t)
            | Ty::Box(t)
            | Ty::Array(t, _)
            | Ty::Set { key: t, .. }
            | Ty::Wrap { inner: t, .. }
            | Ty::Closure { ret: t, .. } => vec![t],
            Ty::Result(a, b)
            | Ty::Map {
                key: a, value: b, ..
            } => vec![a, b],
            Ty::Tuple(ts) => ts.iter().collect(),
        }
    }

    /// Whether a std wrapper or a closure appears anywhere in this type.
    pub(super) fn has_wrap(&self) -> bool {
        matches!(self, Ty::Wrap { .. } | Ty::Closure { .. })
            || self.children().into_iter().any(Ty::has_wrap)
    }

    /// Whether the harness would hold a value of a crate type it cannot name: one at the
    /// surface of this type (not inside another crate type, which its constructor builds
    /// inside the crate).
    pub fn has_private(&self) -> bool {
        match self {
            Ty::Adt(d) => !d.reachable,
            _ => self.children().into_iter().any(Ty::has_private),
        }
    }

    /// Whether a crate type appears anywhere in this type.
    pub fn has_adt(&self) -> bool {
        matches!(self, Ty::Adt(_)) || self.children().into_iter().any(Ty::has_adt)
    }

    /// The crate types this type is built from (through their fields too), each once.
    pub fn collect_adts<'a>(&'a self, out: &mut Vec<&'a AdtDef>) {
        match self {
            Ty::Adt(d) => d.collect_adts(out),
            _ => self
                .children()
                .into_iter()
                .for_each(|t| t.collect_adts(out)),
        }
    }

    /// Whether a value of this type borrows (so it must be rebuilt from an owned value per call).
    pub fn has_ref(&self) -> bool {
        match self {
            // A closure owns the value it returns; a crate type owns its mirror's parts.
            Ty::Adt(_) | Ty::Closure { .. } => false,
            Ty::Str | Ty::Slice(_) | Ty::Ref { .. } | Ty::CowStr => true,
            _ => self.children().into_iter().any(Ty::has_ref),
        }
    }

    /// Whether the type can be hashed and ordered once owned (map keys and set elements).
    pub(super) fn is_key(&self) -> bool {
        match self {
            Ty::Prim(p) => !p.starts_with('f'),
            Ty::Unit | Ty::String | Ty::Str | Ty::CowStr => true,
            Ty::Ref { inner, .. } => inner.is_key(),
            Ty::Vec(t) | Ty::Option(t) | Ty::Box(t) | Ty::Array(t, _) | Ty::Slice(t) => t.is_key(),
            Ty::Wrap {
                kind: Wrap::Cell | Wrap::RefCell,
                ..
            } => false,
            Ty::Wrap { inner, .. } => inner.is_key(),
            Ty::Result(a, b) => a.is_key() && b.is_key(),
            Ty::Tuple(ts) => ts.iter().all(Ty::is_key),
            // Whether it derives `Hash` and `Ord` is not checked: never a key.
            Ty::Map { .. } | Ty::Set { .. } | Ty::Adt(_) | Ty::Closure { .. } => false,
        }
    }
}
