//! The program model: one crate's (or Go package's) facts with names resolved, types of
//! declarations and values, and the target of every call.

pub mod extensions;
pub mod facts;
pub mod known;
pub mod modules;
mod typeck;
pub mod types;

use rustc_hash::FxHashMap as HashMap;
use std::path::PathBuf;

use crate::source::{FileId, Language, SourceMap, Span};
use crate::unit::{CrateInput, Edition};
use facts::{
    AdtKind, Body, BodyIdx, CallId, FileFacts, FnFact, FnIdx, FnKind, LocalId, PathExpr,
    StaticKind, Sym, TypeExpr, ValueId,
};
pub use known::{LibCall, LockAttempt, LockMode, MapOpKind, SpawnKind};
pub use modules::{FunctionId, ItemRef, ModuleId, ModuleTree, Resolved, StaticId};
pub use typeck::{BodyTypes, CallTarget};
use types::{AdtId, LibTy, LockFlavor, TyId, TyInterner, TyKind, classify_lib_type};

/// A data type's fields as written, with its generic names.
type FieldsAndGenerics = (Vec<(Sym, TypeExpr)>, Vec<Sym>);

/// A data type of the program.
#[derive(Debug)]
pub struct Adt {
    pub name: Sym,
    pub module: ModuleId,
    pub kind: AdtKind,
    pub generics: Vec<Sym>,
    pub fields: Vec<(Sym, TyId)>,
    pub span: Span,
    /// `impl Drop for T { fn drop(..) }`.
    pub drop_fn: Option<FunctionId>,
    /// Methods of inherent and trait impls, by name.
    pub methods: HashMap<Sym, Vec<FunctionId>>,
    /// `unsafe impl Send` or `unsafe impl Sync` for this type.
    pub unsafe_send_sync: bool,
    /// Go embedded fields, by name.
    pub embedded: Vec<Sym>,
}

#[derive(Debug)]
pub struct Alias {
    pub module: ModuleId,
    pub generics: Vec<Sym>,
    pub ty: TypeExpr,
}

#[derive(Debug)]
pub struct Static {
    pub name: Sym,
    pub module: ModuleId,
    pub ty: TyId,
    pub kind: StaticKind,
    pub span: Span,
}

/// A function of the program, with what resolution learned about it.
#[derive(Debug)]
pub struct Function {
    pub file: u32,
    pub fn_idx: FnIdx,
    pub module: ModuleId,
    /// The `Self` type of a method.
    pub self_ty: Option<TyId>,
    /// The trait a method implements.
    pub trait_name: Option<Sym>,
    /// This is `Drop::drop` for that type.
    pub drop_for: Option<AdtId>,
    /// The body arena (shared with enclosing functions for closures).
    pub body: BodyId,
    pub ret_ty: TyId,
    /// The function that owns the arena: the item function a closure is nested in.
    pub owner: FunctionId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BodyId(pub u32);

/// A body arena with the types of its locals and values and the targets of its calls.
#[derive(Debug)]
pub struct BodyInfo {
    pub file: u32,
    pub idx: BodyIdx,
    pub types: BodyTypes,
}

/// A file of the program.
#[derive(Debug)]
pub struct ProgramFile {
    pub id: FileId,
    pub path: PathBuf,
    pub facts: FileFacts,
    fn_base: u32,
    body_base: u32,
}

/// One analysed unit.
#[derive(Debug)]
pub struct Program {
    pub language: Language,
    pub name: String,
    pub edition: Edition,
    pub files: Vec<ProgramFile>,
    pub tree: ModuleTree,
    pub types: TyInterner,
    pub adts: Vec<Adt>,
    pub aliases: Vec<Alias>,
    pub statics: Vec<Static>,
    pub functions: Vec<Function>,
    pub bodies: Vec<BodyInfo>,
    /// Go methods of named types that are not structs (`type Table map[K]V`), by the type
    /// they name.
    named_type_methods: HashMap<TyId, HashMap<Sym, FunctionId>>,
    /// Rust: the methods of each trait's implementations in the program, by trait name and
    /// method name, for calls on `dyn Trait`.
    trait_methods: HashMap<Sym, HashMap<Sym, Vec<FunctionId>>>,
    /// Rust: the program's types implementing each trait (by name), with their `Self` type.
    trait_implementors: HashMap<Sym, Vec<(AdtId, TyId)>>,
    file_index: HashMap<FileId, u32>,
    /// The kind of each target of the unit, by target index.
    target_kinds: Vec<crate::unit::TargetKind>,
    /// The unit's configured spawn functions, defer guards, maps and locks.
    extensions: std::sync::Arc<extensions::Extensions>,
}

/// What `Self` and generic names mean where a type is written.
#[derive(Clone, Debug, Default)]
pub(crate) struct TypeContext {
    pub(crate) self_ty: Option<TyId>,
    pub(crate) generics: Vec<Sym>,
}

impl Program {
    /// Empties the facts of the files of modules that the unit's features configure out
    /// (`#[cfg(feature = "x")] mod x;` without `x`, and the modules below): they are not part
    /// of the crate cargo builds, so neither their items nor their parse errors nor their
    /// suppressions count. Sorts `files` by id, as [`Program::build`] does.
    pub fn leave_out_configured_out_files(
        sources: &SourceMap,
        input: &CrateInput,
        files: &mut [(FileId, FileFacts)],
    ) {
        let any_configured_out = files.iter().any(|(_, facts)| {
            facts
                .mod_decls
                .iter()
                .any(|declaration| declaration.configured_out)
        });
        if input.language != Language::Rust || !any_configured_out {
            return;
        }
        files.sort_by_key(|(id, _)| *id);
        let paths: Vec<PathBuf> = files
            .iter()
            .map(|(id, _)| sources.get(*id).path.clone())
            .collect();
        let file_index: HashMap<FileId, u32> = files
            .iter()
            .enumerate()
            .map(|(index, (id, _))| (*id, index as u32))
            .collect();
        let targets = target_files(input, &file_index);
        let configured_out = {
            let facts: Vec<&FileFacts> = files.iter().map(|(_, facts)| facts).collect();
            ModuleTree::build(&paths, &facts, &targets, input.lib_name.as_deref())
                .configured_out_files
        };
        for file in configured_out {
            let facts = &mut files[file as usize].1;
            *facts = FileFacts {
                byte_len: facts.byte_len,
                ..FileFacts::default()
            };
        }
    }

    /// Resolves names and types over the files of one unit.
    pub fn build(
        sources: &SourceMap,
        input: &CrateInput,
        mut files: Vec<(FileId, FileFacts)>,
    ) -> Program {
        files.sort_by_key(|(id, _)| *id);
        let mut program_files = Vec::with_capacity(files.len());
        let (mut fn_base, mut body_base) = (0u32, 0u32);
        for (id, facts) in files {
            let path = sources.get(id).path.clone();
            let (functions, bodies) = (facts.functions.len() as u32, facts.bodies.len() as u32);
            program_files.push(ProgramFile {
                id,
                path,
                facts,
                fn_base,
                body_base,
            });
            fn_base += functions;
            body_base += bodies;
        }
        let file_index: HashMap<FileId, u32> = program_files
            .iter()
            .enumerate()
            .map(|(index, file)| (file.id, index as u32))
            .collect();
        let paths: Vec<PathBuf> = program_files.iter().map(|file| file.path.clone()).collect();
        let facts: Vec<&FileFacts> = program_files.iter().map(|file| &file.facts).collect();
        let targets = target_files(input, &file_index);
        let tree = match input.language {
            Language::Rust => {
                ModuleTree::build(&paths, &facts, &targets, input.lib_name.as_deref())
            }
            Language::Go => {
                ModuleTree::build_go(&paths, &facts, &input.root_dir, input.lib_name.as_deref())
            }
        };
        let mut program = Program {
            language: input.language,
            name: input.name.clone(),
            edition: input.edition,
            files: program_files,
            tree,
            types: TyInterner::default(),
            adts: Vec::new(),
            aliases: Vec::new(),
            statics: Vec::new(),
            functions: Vec::new(),
            bodies: Vec::new(),
            named_type_methods: HashMap::default(),
            trait_methods: HashMap::default(),
            trait_implementors: HashMap::default(),
            file_index,
            target_kinds: input.targets.iter().map(|target| target.kind).collect(),
            extensions: input.extensions.clone(),
        };
        program.register_items();
        program.resolve_declarations();
        program.check_bodies();
        program
    }

    /// The index of a target of the unit whose module tree holds `file`.
    pub fn target_of_file(&self, file: FileId) -> Option<usize> {
        let index = *self.file_index.get(&file)?;
        let module = *self.tree.file_modules.get(index as usize)?.first()?;
        self.tree.module(module).target
    }

    /// A function of the unit's library target: other crates may call it.
    pub fn is_library_code(&self, id: FunctionId) -> bool {
        let module = self.function(id).module;
        matches!(
            self.tree
                .module(module)
                .target
                .and_then(|target| self.target_kinds.get(target)),
            Some(crate::unit::TargetKind::Lib)
        )
    }

    /// Test code: a `#[test]` function, code in a `#[cfg(test)]` module, or a file of a test
    /// or bench target. Findings there are reported only when tests are asked for.
    pub fn is_test_code(&self, id: FunctionId) -> bool {
        if self.fact(self.function(id).owner).is_test
            || self.fact(id).is_test
            || self.tree.module(self.function(id).module).is_test
        {
            return true;
        }
        self.is_test_target_file(self.function(id).file as usize)
    }

    /// Whether a place in a file is test code: inside an item marked as test code, in a
    /// module under `#[cfg(test)]`, or in a file of a test or bench target.
    pub fn is_test_location(&self, span: Span) -> bool {
        let Some(&index) = self.file_index.get(&span.file) else {
            return false;
        };
        let index = index as usize;
        let file_module_is_test = self
            .tree
            .file_modules
            .get(index)
            .and_then(|modules| modules.first())
            .is_some_and(|module| self.tree.module(*module).is_test);
        file_module_is_test
            || self.is_test_target_file(index)
            || self.files[index]
                .facts
                .test_regions
                .iter()
                .any(|region| region.lo <= span.lo && span.lo < region.hi)
    }

    /// A file (by its index in `files`) of a test or bench target.
    fn is_test_target_file(&self, file: usize) -> bool {
        let module = self
            .tree
            .file_modules
            .get(file)
            .and_then(|modules| modules.first());
        let target = module.and_then(|module| self.tree.module(*module).target);
        matches!(
            target.and_then(|target| self.target_kinds.get(target)),
            Some(crate::unit::TargetKind::Test | crate::unit::TargetKind::Bench)
        )
    }

    pub fn function(&self, id: FunctionId) -> &Function {
        &self.functions[id.index()]
    }

    /// The facts of a function.
    pub fn fact(&self, id: FunctionId) -> &FnFact {
        let function = &self.functions[id.index()];
        &self.files[function.file as usize].facts.functions[function.fn_idx.index()]
    }

    /// The arena of a function's body.
    pub fn body(&self, id: FunctionId) -> &Body {
        let function = &self.functions[id.index()];
        let info = &self.bodies[function.body.0 as usize];
        &self.files[info.file as usize].facts.bodies[info.idx.index()]
    }

    pub fn body_types(&self, id: FunctionId) -> &BodyTypes {
        &self.bodies[self.functions[id.index()].body.0 as usize].types
    }

    /// The program-wide id of a function of a file.
    pub fn function_id(&self, file: u32, fn_idx: FnIdx) -> FunctionId {
        FunctionId(self.files[file as usize].fn_base + fn_idx.0)
    }

    pub fn file_id(&self, function: FunctionId) -> FileId {
        self.files[self.functions[function.index()].file as usize].id
    }

    /// The calls a function's own code makes (not its closures' or blocks'), with their ids
    /// in the arena of its owner.
    pub fn own_calls(
        &self,
        function: FunctionId,
    ) -> impl Iterator<Item = (CallId, &facts::CallFact)> + '_ {
        let owner = self.function(function).owner;
        let file = self.function(owner).file;
        self.body(owner)
            .calls
            .iter()
            .enumerate()
            .map(|(position, call)| (CallId::from_index(position), call))
            .filter(move |(_, call)| self.function_id(file, call.function) == function)
    }

    pub fn function_ids(&self) -> impl Iterator<Item = FunctionId> + '_ {
        (0..self.functions.len() as u32).map(FunctionId)
    }

    pub fn adt(&self, id: AdtId) -> &Adt {
        &self.adts[id.0 as usize]
    }

    /// The one implementation of a trait's method in the program, for a call on `dyn Trait`;
    /// `None` when there are several or none.
    pub fn only_trait_method(&self, trait_name: &str, method: &str) -> Option<FunctionId> {
        match self.trait_methods.get(trait_name)?.get(method)?.as_slice() {
            [only] => Some(*only),
            _ => None,
        }
    }

    /// Every implementation in the program of the method a call on a trait object (`dyn
    /// Trait`, behind any references or smart pointers) names; empty for other calls.
    pub fn dyn_targets(&self, function: FunctionId, call: facts::CallId) -> Vec<FunctionId> {
        let owner = self.function(function).owner;
        let facts::Callee::Method { receiver, name, .. } = &self.body(owner).call(call).callee
        else {
            return Vec::new();
        };
        let ty = self.types.autoderef(self.value_ty(owner, *receiver));
        match self.types.kind(ty) {
            types::TyKind::Dyn(trait_name) => self
                .trait_methods
                .get(trait_name)
                .and_then(|methods| methods.get(name))
                .cloned()
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// Rust: the program's types that implement a trait (by name), with their `Self` type:
    /// what a `dyn Trait` may be.
    pub fn trait_implementor_types(&self, trait_name: &str) -> &[(AdtId, TyId)] {
        self.trait_implementors
            .get(trait_name)
            .map_or(&[], Vec::as_slice)
    }

    pub fn static_item(&self, id: StaticId) -> &Static {
        &self.statics[id.0 as usize]
    }

    /// A readable name for a type.
    pub fn type_name(&self, ty: TyId) -> String {
        self.types
            .display(ty, &|adt| self.adts[adt.0 as usize].name.to_string())
    }

    /// A value of this type holds a map: it is one, or owns one inside a cell, a lock, an
    /// `Option`, a box, or a field of a struct of the program (a few levels down). Shared
    /// pointers and references are looked through, as method calls look through them.
    pub fn holds_map(&self, ty: TyId) -> bool {
        self.holds_map_within(ty, 0)
    }

    fn holds_map_within(&self, ty: TyId, depth: u32) -> bool {
        if depth > 4 || ty.is_unknown() {
            return false;
        }
        let ty = self.types.autoderef(ty);
        if self.types.map(ty).is_some() {
            return true;
        }
        match self.types.kind(ty) {
            TyKind::Lib(
                LibTy::RefCell
                | LibTy::Cell
                | LibTy::UnsafeCell
                | LibTy::Mutex(_)
                | LibTy::RwLock(_)
                | LibTy::Option,
                args,
            ) => args
                .first()
                .is_some_and(|&inner| self.holds_map_within(inner, depth + 1)),
            TyKind::Adt(adt, _) => self.adts[adt.0 as usize]
                .fields
                .iter()
                .any(|&(_, field)| self.holds_map_within(field, depth + 1)),
            _ => false,
        }
    }

    /// The path names a type of the program (a struct, a named type, an alias), so that a
    /// call of it with one argument is a conversion (`Iface(x)`, `Celsius(t)`).
    pub fn names_type(&self, module: ModuleId, path: &facts::PathExpr) -> bool {
        matches!(
            self.tree.resolve(module, &path.segments, path.leading_colon),
            Some(Resolved::Item(ItemRef::Adt(_) | ItemRef::Alias(_), extra)) if extra.is_empty()
        )
    }

    /// A readable name for a function: `Type::method`, `function`, `closure in function`.
    pub fn function_name(&self, id: FunctionId) -> String {
        let fact = self.fact(id);
        let function = self.function(id);
        match &fact.kind {
            FnKind::Closure { .. } | FnKind::AsyncBlock { .. } | FnKind::DeferBody { .. } => {
                let owner = function.owner;
                let what = match &fact.kind {
                    FnKind::Closure { .. } => "closure",
                    FnKind::AsyncBlock { .. } => "async block",
                    _ => "defer body",
                };
                if owner == id {
                    what.to_string()
                } else {
                    format!("{what} in `{}`", self.function_name(owner))
                }
            }
            _ => match function.self_ty {
                Some(ty) => format!(
                    "{}::{}",
                    self.type_name(self.types.strip_refs(ty)),
                    fact.name
                ),
                None => fact.name.to_string(),
            },
        }
    }

    fn register_items(&mut self) {
        for file in 0..self.files.len() {
            let modules = self.tree.file_modules[file].clone();
            let facts = &self.files[file].facts;
            for adt in &facts.adts {
                let id = AdtId(self.adts.len() as u32);
                let module = modules[adt.module.index()];
                self.tree.define(module, adt.name.clone(), ItemRef::Adt(id));
                self.adts.push(Adt {
                    name: adt.name.clone(),
                    module,
                    kind: adt.kind,
                    generics: adt.generics.clone(),
                    fields: Vec::new(),
                    span: adt.span,
                    drop_fn: None,
                    methods: HashMap::default(),
                    unsafe_send_sync: false,
                    embedded: adt
                        .fields
                        .iter()
                        .filter(|field| field.embedded)
                        .map(|field| field.name.clone())
                        .collect(),
                });
            }
            for alias in &facts.aliases {
                let id = modules::AliasId(self.aliases.len() as u32);
                let module = modules[alias.module.index()];
                self.tree
                    .define(module, alias.name.clone(), ItemRef::Alias(id));
                self.aliases.push(Alias {
                    module,
                    generics: alias.generics.clone(),
                    ty: alias.ty.clone(),
                });
            }
            for item in &facts.statics {
                let id = StaticId(self.statics.len() as u32);
                let module = modules[item.module.index()];
                // `var _ I = (*T)(nil)`: the blank name declares nothing code can name.
                if &*item.name != "_" {
                    self.tree
                        .define(module, item.name.clone(), ItemRef::Static(id));
                }
                self.statics.push(Static {
                    name: item.name.clone(),
                    module,
                    ty: TyId::UNKNOWN,
                    kind: item.kind,
                    span: item.span,
                });
            }
            for item in &facts.traits {
                self.tree.define(
                    modules[item.module.index()],
                    item.name.clone(),
                    ItemRef::Trait,
                );
            }
            let body_base = self.files[file].body_base;
            for (index, function) in facts.functions.iter().enumerate() {
                let id = FunctionId(self.files[file].fn_base + index as u32);
                let module = modules[function.module.index()];
                if function.kind == FnKind::Free {
                    self.tree
                        .define(module, function.name.clone(), ItemRef::Function(id));
                }
                let mut owner = FnIdx::from_index(index);
                while let Some(parent) = facts.functions[owner.index()].kind.parent() {
                    owner = parent;
                }
                self.functions.push(Function {
                    file: file as u32,
                    fn_idx: FnIdx::from_index(index),
                    module,
                    self_ty: None,
                    trait_name: match &function.kind {
                        FnKind::TraitMethod { trait_name, .. } => Some(trait_name.clone()),
                        _ => None,
                    },
                    drop_for: None,
                    body: BodyId(body_base + function.body.0),
                    ret_ty: TyId::UNKNOWN,
                    owner: FunctionId(self.files[file].fn_base + owner.0),
                });
            }
            for index in 0..facts.bodies.len() {
                self.bodies.push(BodyInfo {
                    file: file as u32,
                    idx: BodyIdx::from_index(index),
                    types: BodyTypes::default(),
                });
            }
        }
    }

    /// Field types, static types, impl self types, method tables, `Drop` impls, signatures.
    fn resolve_declarations(&mut self) {
        // Field types.
        let mut adt_index = 0;
        for file in 0..self.files.len() {
            let adts: Vec<FieldsAndGenerics> = self.files[file]
                .facts
                .adts
                .iter()
                .map(|adt| {
                    (
                        adt.fields
                            .iter()
                            .map(|field| (field.name.clone(), field.ty.clone()))
                            .collect(),
                        adt.generics.clone(),
                    )
                })
                .collect();
            for (fields, generics) in adts {
                let module = self.adts[adt_index].module;
                let context = TypeContext {
                    self_ty: None,
                    generics,
                };
                let resolved = fields
                    .into_iter()
                    .map(|(name, ty)| (name, self.resolve_type(module, &ty, &context)))
                    .collect();
                self.adts[adt_index].fields = resolved;
                adt_index += 1;
            }
        }
        // Static types.
        let mut static_index = 0;
        for file in 0..self.files.len() {
            let statics: Vec<TypeExpr> = self.files[file]
                .facts
                .statics
                .iter()
                .map(|item| item.ty.clone())
                .collect();
            for ty in statics {
                let module = self.statics[static_index].module;
                let mut resolved = self.resolve_type(module, &ty, &TypeContext::default());
                // A `thread_local!` item is a key to each thread's own value.
                if self.statics[static_index].kind == StaticKind::ThreadLocal {
                    resolved = self.types.lib(LibTy::LocalKey, vec![resolved]);
                }
                self.statics[static_index].ty = resolved;
                static_index += 1;
            }
        }
        // Impls: self types, methods, Drop, unsafe Send/Sync.
        for file in 0..self.files.len() {
            let modules = self.tree.file_modules[file].clone();
            let impls: Vec<_> = self.files[file]
                .facts
                .impls
                .iter()
                .map(|block| {
                    (
                        block.module,
                        block.self_ty.clone(),
                        block.trait_path.clone(),
                        block.is_unsafe,
                        block.generics.clone(),
                    )
                })
                .collect();
            let mut impl_self = Vec::with_capacity(impls.len());
            for (module, self_ty, trait_path, is_unsafe, generics) in &impls {
                let module = modules[module.index()];
                let context = TypeContext {
                    self_ty: None,
                    generics: generics.clone(),
                };
                let ty = self.resolve_type(module, self_ty, &context);
                let adt = match self.types.kind(ty) {
                    TyKind::Adt(adt, _) => Some(*adt),
                    _ => None,
                };
                let trait_name = trait_path.as_ref().map(|path| path.last().to_string());
                if let (Some(adt), true, Some("Send" | "Sync")) =
                    (adt, *is_unsafe, trait_name.as_deref())
                {
                    self.adts[adt.0 as usize].unsafe_send_sync = true;
                }
                if let (Some(adt), Some(trait_name)) = (adt, trait_name.as_deref()) {
                    let implementors = self
                        .trait_implementors
                        .entry(trait_name.into())
                        .or_default();
                    if !implementors.iter().any(|(known, _)| *known == adt) {
                        implementors.push((adt, ty));
                    }
                }
                impl_self.push((ty, adt, trait_name, generics.clone()));
            }
            let function_count = self.files[file].facts.functions.len();
            for index in 0..function_count {
                let id = FunctionId(self.files[file].fn_base + index as u32);
                let (kind, name) = {
                    let fact = &self.files[file].facts.functions[index];
                    (fact.kind.clone(), fact.name.clone())
                };
                if let FnKind::Method { impl_idx, .. } = kind {
                    let (ty, adt, trait_name, _) = &impl_self[impl_idx.index()];
                    self.functions[id.index()].self_ty = Some(*ty);
                    self.functions[id.index()].trait_name = trait_name.as_deref().map(Into::into);
                    if adt.is_none() && self.language == Language::Go && !ty.is_unknown() {
                        self.named_type_methods
                            .entry(*ty)
                            .or_default()
                            .entry(name.clone())
                            .or_insert(id);
                    }
                    if let (Some(_), Some(trait_name)) = (adt, trait_name.as_deref()) {
                        self.trait_methods
                            .entry(trait_name.into())
                            .or_default()
                            .entry(name.clone())
                            .or_default()
                            .push(id);
                    }
                    if let Some(adt) = adt {
                        self.adts[adt.0 as usize]
                            .methods
                            .entry(name.clone())
                            .or_default()
                            .push(id);
                        if trait_name.as_deref() == Some("Drop") && &*name == "drop" {
                            self.adts[adt.0 as usize].drop_fn = Some(id);
                            self.functions[id.index()].drop_for = Some(*adt);
                        }
                    }
                }
            }
            // Closures and blocks inherit `Self` from their owner.
            for index in 0..function_count {
                let id = FunctionId(self.files[file].fn_base + index as u32);
                let owner = self.functions[id.index()].owner;
                if owner != id {
                    self.functions[id.index()].self_ty = self.functions[owner.index()].self_ty;
                }
            }
            // Return types.
            for index in 0..function_count {
                let id = FunctionId(self.files[file].fn_base + index as u32);
                let ret = self.files[file].facts.functions[index].ret.clone();
                if let Some(ret) = ret {
                    let context = self.function_context(id);
                    let module = self.functions[id.index()].module;
                    self.functions[id.index()].ret_ty = self.resolve_type(module, &ret, &context);
                }
            }
        }
        self.attach_default_methods();
    }

    /// A trait's provided (default) methods belong to the program's only implementor of the
    /// trait, if there is one: `Self` is that type, and a method call on it finds them when
    /// the impl does not override them.
    fn attach_default_methods(&mut self) {
        let ids: Vec<FunctionId> = self.function_ids().collect();
        for id in ids {
            let FnKind::TraitMethod { trait_name, .. } = self.fact(id).kind.clone() else {
                continue;
            };
            let name = self.fact(id).name.clone();
            let Some(&[(adt, ty)]) = self.trait_implementors.get(&trait_name).map(Vec::as_slice)
            else {
                continue;
            };
            self.functions[id.index()].self_ty = Some(ty);
            self.functions[id.index()].trait_name = Some(trait_name.clone());
            self.adts[adt.0 as usize]
                .methods
                .entry(name)
                .or_default()
                .push(id);
            let file = self.functions[id.index()].file as usize;
            let (base, count) = (
                self.files[file].fn_base,
                self.files[file].facts.functions.len(),
            );
            for index in 0..count {
                let inner = FunctionId(base + index as u32);
                if inner != id && self.functions[inner.index()].owner == id {
                    self.functions[inner.index()].self_ty = Some(ty);
                }
            }
        }
    }

    /// `Self` and the generic names in scope in a function.
    pub(crate) fn function_context(&self, id: FunctionId) -> TypeContext {
        let function = &self.functions[id.index()];
        let owner = self.fact(function.owner);
        let mut generics = owner.generics.clone();
        if let FnKind::Method { impl_idx, .. } = &owner.kind {
            generics.extend(
                self.files[function.file as usize].facts.impls[impl_idx.index()]
                    .generics
                    .iter()
                    .cloned(),
            );
        }
        TypeContext {
            self_ty: function.self_ty.map(|ty| self.types.strip_refs(ty)),
            generics,
        }
    }

    /// Resolves a type as written in `module`.
    pub(crate) fn resolve_type(
        &mut self,
        module: ModuleId,
        ty: &TypeExpr,
        context: &TypeContext,
    ) -> TyId {
        self.resolve_type_depth(module, ty, context, 0)
    }

    fn resolve_type_depth(
        &mut self,
        module: ModuleId,
        ty: &TypeExpr,
        context: &TypeContext,
        depth: u32,
    ) -> TyId {
        if depth > 24 {
            return TyId::UNKNOWN;
        }
        match ty {
            TypeExpr::Path(path) => self.resolve_type_path(module, path, context, depth),
            TypeExpr::Ref { mutable, inner } => {
                let inner = self.resolve_type_depth(module, inner, context, depth + 1);
                self.types.intern(TyKind::Ref(inner, *mutable))
            }
            TypeExpr::Ptr { mutable, inner } => {
                let inner = self.resolve_type_depth(module, inner, context, depth + 1);
                self.types.intern(TyKind::Ptr(inner, *mutable))
            }
            TypeExpr::Tuple(elements) => {
                if elements.is_empty() {
                    return TyId::UNKNOWN;
                }
                let elements = elements
                    .iter()
                    .map(|element| self.resolve_type_depth(module, element, context, depth + 1))
                    .collect();
                self.types.intern(TyKind::Tuple(elements))
            }
            TypeExpr::Slice(inner) => {
                let inner = self.resolve_type_depth(module, inner, context, depth + 1);
                self.types.intern(TyKind::Slice(inner))
            }
            TypeExpr::Never => self.types.intern(TyKind::Never),
            // The first trait that says what the value does (`dyn Source + Send`).
            TypeExpr::Traits(paths) => paths
                .iter()
                .map(|path| path.last())
                .find(|name| {
                    !matches!(
                        *name,
                        "Send" | "Sync" | "Unpin" | "Sized" | "Any" | "Fn" | "FnMut" | "FnOnce"
                    )
                })
                .map(|name| self.types.intern(TyKind::Dyn(name.into())))
                .unwrap_or(TyId::UNKNOWN),
            TypeExpr::FnPointer | TypeExpr::Unknown => TyId::UNKNOWN,
        }
    }

    fn resolve_type_path(
        &mut self,
        module: ModuleId,
        path: &PathExpr,
        context: &TypeContext,
        depth: u32,
    ) -> TyId {
        if path.qself.is_some() || path.segments.is_empty() {
            return TyId::UNKNOWN;
        }
        if path.segments.len() == 1 && !path.leading_colon {
            let name = &*path.segments[0];
            if name == "Self" {
                return context.self_ty.unwrap_or(TyId::UNKNOWN);
            }
            if context.generics.iter().any(|generic| &**generic == name) {
                return self.types.intern(TyKind::Param(name.into()));
            }
        }
        let args: Vec<TyId> = path
            .args
            .iter()
            .map(|arg| self.resolve_type_depth(module, arg, context, depth + 1))
            .collect();
        // A type the configuration names, as written (`FastMap`, `cache::FastMap`): it may be
        // the program's own or another crate's.
        if path
            .segments
            .last()
            .is_some_and(|last| self.extensions.names_type(last))
        {
            if let Some(lib) = self.extensions.lib_type(&path.segments) {
                return self.types.lib(lib, args);
            }
        }
        match self
            .tree
            .resolve(module, &path.segments, path.leading_colon)
        {
            Some(Resolved::Item(ItemRef::Adt(adt), extra)) if extra.is_empty() => {
                self.adt_type(adt, args)
            }
            Some(Resolved::Item(ItemRef::Alias(alias), extra)) if extra.is_empty() => {
                self.expand_alias(alias, args, depth)
            }
            Some(Resolved::External(external)) => {
                let segments: Vec<&str> = external.iter().map(|segment| &**segment).collect();
                match self
                    .extensions
                    .lib_type(&segments)
                    .or_else(|| classify_lib_type(&segments))
                {
                    Some(lib) => self.types.lib(lib, args),
                    None => self
                        .types
                        .intern(TyKind::Opaque(external.last().cloned().unwrap_or_default())),
                }
            }
            _ => TyId::UNKNOWN,
        }
    }

    /// A program type by id; a type the program defines under a lock's name (a wrapper such as
    /// tokio's `loom::sync::Mutex`) is treated as a lock whose flavor is unknown.
    fn adt_type(&mut self, adt: AdtId, args: Vec<TyId>) -> TyId {
        let data = &self.adts[adt.0 as usize];
        let lib = match &*data.name {
            "Mutex" | "FairMutex" if !data.generics.is_empty() => {
                Some(LibTy::Mutex(LockFlavor::Unknown))
            }
            "RwLock" if !data.generics.is_empty() => Some(LibTy::RwLock(LockFlavor::Unknown)),
            // A type of the program that its configuration names as a map or a lock.
            name => self.extensions.lib_type(&[name]),
        };
        match lib {
            Some(lib) => self.types.lib(lib, args),
            None => self.types.intern(TyKind::Adt(adt, args)),
        }
    }

    fn expand_alias(&mut self, alias: modules::AliasId, args: Vec<TyId>, depth: u32) -> TyId {
        let (module, generics, ty) = {
            let data = &self.aliases[alias.0 as usize];
            (data.module, data.generics.clone(), data.ty.clone())
        };
        let context = TypeContext {
            self_ty: None,
            generics: generics.clone(),
        };
        let resolved = self.resolve_type_depth(module, &ty, &context, depth + 1);
        let substitution: Vec<(Sym, TyId)> = generics.into_iter().zip(args).collect();
        self.substitute(resolved, &substitution)
    }

    /// Replaces generic parameters by the given types.
    pub fn substitute(&mut self, ty: TyId, substitution: &[(Sym, TyId)]) -> TyId {
        if substitution.is_empty() {
            return ty;
        }
        match self.types.kind(ty).clone() {
            TyKind::Param(name) => substitution
                .iter()
                .find(|(param, _)| *param == name)
                .map(|(_, ty)| *ty)
                .unwrap_or(ty),
            TyKind::Adt(adt, args) => {
                let args = args
                    .iter()
                    .map(|&arg| self.substitute(arg, substitution))
                    .collect();
                self.types.intern(TyKind::Adt(adt, args))
            }
            TyKind::Lib(lib, args) => {
                let args = args
                    .iter()
                    .map(|&arg| self.substitute(arg, substitution))
                    .collect();
                self.types.intern(TyKind::Lib(lib, args))
            }
            TyKind::Ref(inner, mutable) => {
                let inner = self.substitute(inner, substitution);
                self.types.intern(TyKind::Ref(inner, mutable))
            }
            TyKind::Ptr(inner, mutable) => {
                let inner = self.substitute(inner, substitution);
                self.types.intern(TyKind::Ptr(inner, mutable))
            }
            TyKind::Tuple(elements) => {
                let elements = elements
                    .iter()
                    .map(|&element| self.substitute(element, substitution))
                    .collect();
                self.types.intern(TyKind::Tuple(elements))
            }
            TyKind::Slice(inner) => {
                let inner = self.substitute(inner, substitution);
                self.types.intern(TyKind::Slice(inner))
            }
            TyKind::Unknown
            | TyKind::Never
            | TyKind::Opaque(_)
            | TyKind::Dyn(_)
            | TyKind::AsyncCall(_) => ty,
        }
    }

    /// The type of a field of a value of type `base` (after auto-deref), with the type's
    /// generic arguments substituted. Go's promoted fields (of embedded structs) are found too.
    pub fn field_type(&mut self, base: TyId, name: &str) -> TyId {
        self.field_type_depth(base, name, 0)
    }

    fn field_type_depth(&mut self, base: TyId, name: &str, depth: u32) -> TyId {
        let base = self.types.autoderef(base);
        match self.types.kind(base).clone() {
            TyKind::Adt(adt, args) => {
                let data = &self.adts[adt.0 as usize];
                let Some(&(_, ty)) = data.fields.iter().find(|(field, _)| &**field == name) else {
                    if depth < 4 {
                        for embedded in self.embedded_field_types(adt) {
                            let found = self.field_type_depth(embedded, name, depth + 1);
                            if !found.is_unknown() {
                                return found;
                            }
                        }
                    }
                    return TyId::UNKNOWN;
                };
                let substitution: Vec<(Sym, TyId)> =
                    data.generics.iter().cloned().zip(args).collect();
                self.substitute(ty, &substitution)
            }
            TyKind::Tuple(elements) => name
                .parse::<usize>()
                .ok()
                .and_then(|index| elements.get(index).copied())
                .unwrap_or(TyId::UNKNOWN),
            _ => TyId::UNKNOWN,
        }
    }

    /// A Go method declared on a type (references stripped): a struct's, or a named non-struct
    /// type's (`type Table map[K]V`). Promoted methods of embedded fields are not included.
    pub fn go_method(&self, ty: TyId, name: &str) -> Option<FunctionId> {
        let ty = self.types.strip_refs(ty);
        match self.types.kind(ty) {
            TyKind::Adt(adt, _) => self.adts[adt.0 as usize]
                .methods
                .get(name)
                .and_then(|methods| methods.first().copied()),
            _ => self
                .named_type_methods
                .get(&ty)
                .and_then(|methods| methods.get(name).copied()),
        }
    }

    /// The types of a Go struct's embedded fields.
    pub fn embedded_field_types(&self, adt: AdtId) -> Vec<TyId> {
        let data = &self.adts[adt.0 as usize];
        data.embedded
            .iter()
            .filter_map(|name| {
                data.fields
                    .iter()
                    .find(|(field, _)| field == name)
                    .map(|(_, ty)| *ty)
            })
            .collect()
    }

    /// The program type whose declaration holds a field, following Go's embedded fields.
    pub fn field_owner(&self, adt: AdtId, name: &str) -> Option<AdtId> {
        self.field_owner_depth(adt, name, 0)
    }

    fn field_owner_depth(&self, adt: AdtId, name: &str, depth: u32) -> Option<AdtId> {
        let data = &self.adts[adt.0 as usize];
        if data.fields.iter().any(|(field, _)| &**field == name) {
            return Some(adt);
        }
        if depth >= 4 {
            return None;
        }
        self.embedded_field_types(adt)
            .into_iter()
            .filter_map(|ty| self.types.adt(ty))
            .find_map(|inner| self.field_owner_depth(inner, name, depth + 1))
    }

    /// The declared type of a field of a program type, unsubstituted.
    pub fn adt_field(&self, adt: AdtId, name: &str) -> Option<TyId> {
        self.adts[adt.0 as usize]
            .fields
            .iter()
            .find(|(field, _)| &**field == name)
            .map(|(_, ty)| *ty)
    }

    /// The type of a value in a function's arena.
    pub fn value_ty(&self, function: FunctionId, value: ValueId) -> TyId {
        self.body_types(function).value_ty[value.index()]
    }

    pub fn local_ty(&self, function: FunctionId, local: LocalId) -> TyId {
        self.body_types(function).local_ty[local.index()]
    }

    pub fn call_target(&self, function: FunctionId, call: CallId) -> CallTarget {
        self.body_types(function).call_target[call.index()]
    }

    /// The source form of a value, rebuilt from the facts (`self.registry`, `REG`, `*ptr`),
    /// for messages. Long or unknown forms are shortened.
    pub fn value_text(&self, owner: FunctionId, value: ValueId) -> String {
        let mut text = String::new();
        self.write_value_text(owner, value, &mut text, 0);
        text
    }

    fn write_value_text(&self, owner: FunctionId, value: ValueId, out: &mut String, depth: u32) {
        use facts::{Callee, Value};
        if depth > 6 {
            out.push('…');
            return;
        }
        let body = self.body(owner);
        match body.value(value) {
            Value::Local(local) => out.push_str(&body.local(*local).name),
            Value::Path(path) => out.push_str(&path.segments.join("::")),
            Value::Field { base, name } => {
                self.write_value_text(owner, *base, out, depth + 1);
                out.push('.');
                out.push_str(name);
            }
            Value::Index { base } => {
                self.write_value_text(owner, *base, out, depth + 1);
                out.push_str("[..]");
            }
            Value::Deref(inner) => {
                out.push('*');
                self.write_value_text(owner, *inner, out, depth + 1);
            }
            Value::Ref { inner, mutable } => {
                out.push_str(if *mutable { "&mut " } else { "&" });
                self.write_value_text(owner, *inner, out, depth + 1);
            }
            Value::RawRef { inner, .. }
            | Value::Cast { inner, .. }
            | Value::Payload { of: inner, .. } => {
                self.write_value_text(owner, *inner, out, depth + 1)
            }
            Value::Try(inner) => {
                self.write_value_text(owner, *inner, out, depth + 1);
                out.push('?');
            }
            Value::Await(inner) => {
                self.write_value_text(owner, *inner, out, depth + 1);
                out.push_str(".await");
            }
            Value::Call(call) => match &body.call(*call).callee {
                Callee::Method { receiver, name, .. } => {
                    self.write_value_text(owner, *receiver, out, depth + 1);
                    out.push('.');
                    out.push_str(name);
                    out.push_str("()");
                }
                Callee::Path(path) => {
                    out.push_str(&path.segments.join("::"));
                    out.push_str("(..)");
                }
                Callee::Dynamic(_) => out.push_str("(..)"),
            },
            _ => out.push('…'),
        }
    }
}

/// The unit's targets as the module tree takes them: index, program-local file of the root,
/// and whether it is the library.
fn target_files(input: &CrateInput, file_index: &HashMap<FileId, u32>) -> Vec<(usize, u32, bool)> {
    input
        .targets
        .iter()
        .enumerate()
        .filter_map(|(index, target)| {
            Some((
                index,
                *file_index.get(&target.file)?,
                target.kind == crate::unit::TargetKind::Lib,
            ))
        })
        .collect()
}
