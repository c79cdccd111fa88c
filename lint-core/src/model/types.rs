//! Resolved types, interned, and the library types the analyses know by name: maps, locks and
//! their guards, smart pointers, cells.

use rustc_hash::FxHashMap as HashMap;

use crate::model::facts::Sym;

/// An interned type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TyId(pub u32);

/// A data type defined in the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AdtId(pub u32);

/// Which library a lock comes from; it decides poisoning and blocking behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockFlavor {
    /// `std::sync`: poisons on panic, `lock()` returns a `LockResult`.
    Std,
    /// `parking_lot`, `lock_api`: no poisoning.
    ParkingLot,
    /// `spin`: no poisoning.
    Spin,
    /// `tokio::sync`.
    Tokio,
    /// `async_std::sync`, `futures::lock`, `async_lock`.
    AsyncOther,
    /// A type named like a lock whose origin is not known (a re-export, a glob import).
    Unknown,
    /// Go's `sync.Mutex` / `sync.RWMutex`: explicit `Unlock`, no poisoning, not reentrant.
    Go,
    /// A `RefCell` borrow: `borrow()` reads, `borrow_mut()` writes; a conflicting borrow panics
    /// with `BorrowMutError` instead of waiting.
    RefCell,
    /// A reference into a sharded map (`DashMap::get`, `get_mut`, `entry`, `iter`): it holds
    /// its shard's lock, read or write, until it is dropped.
    Shard,
}

impl LockFlavor {
    pub fn is_async(self) -> bool {
        matches!(self, LockFlavor::Tokio | LockFlavor::AsyncOther)
    }

    /// A `RefCell` borrow or a sharded map's reference: guarded like a lock, but not a lock
    /// object of the program's own.
    pub fn is_borrow(self) -> bool {
        matches!(self, LockFlavor::RefCell | LockFlavor::Shard)
    }
}

/// How a map is protected by its own type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MapFlavor {
    /// `HashMap`, `BTreeMap`, `IndexMap`...: no synchronisation of its own.
    Plain,
    /// `DashMap`, `scc::HashMap`, `papaya`, `flurry`: sharded, internally locked.
    Sharded,
}

/// A library type the analyses know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LibTy {
    /// A map or set; arguments are `[K, V]` or `[K]`.
    Map {
        flavor: MapFlavor,
        is_set: bool,
    },
    Mutex(LockFlavor),
    RwLock(LockFlavor),
    /// A lock guard; the argument is the protected value.
    Guard {
        flavor: LockFlavor,
    },
    Arc,
    Rc,
    /// `sync::Weak` or `rc::Weak`.
    Weak,
    Box,
    Option,
    Result,
    Vec,
    RefCell,
    Cell,
    UnsafeCell,
    /// `LazyLock`, `OnceLock`, `once_cell::Lazy`, `OnceCell`: a cell around the argument.
    Lazy,
    /// `Pin`, `AssertUnwindSafe`, `Mutex`-less wrappers that deref to the argument.
    Transparent,
    /// `ManuallyDrop`: derefs to the argument, and never drops it.
    ManuallyDrop,
    /// `scopeguard::ScopeGuard`.
    ScopeGuard,
    JoinHandle,
    String,
    Atomic,
    /// Go's `sync.WaitGroup` and `errgroup.Group`: `Wait` is a join.
    WaitGroup,
    /// Go's `sync.Once`.
    Once,
    /// A Go channel: ranging over it until it is closed is a join.
    Channel,
    /// A `thread_local!` key (`LocalKey<T>`): each thread's own `T`, destroyed when the
    /// thread exits.
    LocalKey,
}

/// The structure of a type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TyKind {
    Unknown,
    Adt(AdtId, Vec<TyId>),
    Lib(LibTy, Vec<TyId>),
    Ref(TyId, bool),
    Ptr(TyId, bool),
    Tuple(Vec<TyId>),
    Slice(TyId),
    Param(Sym),
    /// A type from outside the program that the analyses have no use for (`u32`, `String`s of
    /// other crates, `Sender`): known to exist, so it is not a hole to fill.
    Opaque(Sym),
    /// `dyn Trait` or `impl Trait`: some type implementing the trait (by its name).
    Dyn(Sym),
    Never,
    /// The future a call of one of the program's `async fn`s makes: until it finishes it owns
    /// the function's locals that are alive where it waits, and dropping it drops them.
    AsyncCall(crate::model::modules::FunctionId),
}

/// The program's types, each stored once.
#[derive(Debug)]
pub struct TyInterner {
    kinds: Vec<TyKind>,
    ids: HashMap<TyKind, TyId>,
}

impl Default for TyInterner {
    fn default() -> TyInterner {
        let mut interner = TyInterner {
            kinds: Vec::new(),
            ids: HashMap::default(),
        };
        let unknown = interner.intern(TyKind::Unknown);
        debug_assert_eq!(unknown, TyId::UNKNOWN);
        interner
    }
}

impl TyId {
    pub const UNKNOWN: TyId = TyId(0);

    pub fn is_unknown(self) -> bool {
        self == TyId::UNKNOWN
    }
}

impl TyInterner {
    pub fn intern(&mut self, kind: TyKind) -> TyId {
        if let Some(&id) = self.ids.get(&kind) {
            return id;
        }
        let id = TyId(self.kinds.len() as u32);
        self.kinds.push(kind.clone());
        self.ids.insert(kind, id);
        id
    }

    pub fn kind(&self, id: TyId) -> &TyKind {
        &self.kinds[id.0 as usize]
    }

    pub fn lib(&mut self, lib: LibTy, args: Vec<TyId>) -> TyId {
        self.intern(TyKind::Lib(lib, args))
    }

    /// The `index`th type argument of a library or data type.
    pub fn arg(&self, id: TyId, index: usize) -> TyId {
        match self.kind(id) {
            TyKind::Lib(_, args) | TyKind::Adt(_, args) => {
                args.get(index).copied().unwrap_or(TyId::UNKNOWN)
            }
            _ => TyId::UNKNOWN,
        }
    }

    pub fn as_lib(&self, id: TyId) -> Option<LibTy> {
        match self.kind(id) {
            TyKind::Lib(lib, _) => Some(*lib),
            _ => None,
        }
    }

    /// Strips references, raw pointers excluded.
    pub fn strip_refs(&self, mut id: TyId) -> TyId {
        while let TyKind::Ref(inner, _) = self.kind(id) {
            id = *inner;
        }
        id
    }

    /// What method calls and field accesses see through auto-deref: references, boxes, `Arc`,
    /// `Rc`, guards, lazies and transparent wrappers.
    pub fn autoderef(&self, mut id: TyId) -> TyId {
        for _ in 0..16 {
            let next = match self.kind(id) {
                TyKind::Ref(inner, _) => *inner,
                TyKind::Lib(
                    LibTy::Box
                    | LibTy::Arc
                    | LibTy::Rc
                    | LibTy::Lazy
                    | LibTy::Transparent
                    | LibTy::ManuallyDrop
                    | LibTy::Guard { .. },
                    args,
                ) => match args.first() {
                    Some(&inner) if !inner.is_unknown() => inner,
                    _ => return id,
                },
                _ => return id,
            };
            id = next;
        }
        id
    }

    /// Like [`TyInterner::autoderef`], and through raw pointers and `Option`s too: the object a
    /// place finally designates.
    pub fn pointee(&self, mut id: TyId) -> TyId {
        for _ in 0..16 {
            let next = self.autoderef(id);
            let next = match self.kind(next) {
                TyKind::Ptr(inner, _) => *inner,
                TyKind::Lib(LibTy::Option | LibTy::UnsafeCell | LibTy::Cell, args) => {
                    args.first().copied().unwrap_or(TyId::UNKNOWN)
                }
                _ => return next,
            };
            if next.is_unknown() {
                return id;
            }
            id = next;
        }
        id
    }

    pub fn adt(&self, id: TyId) -> Option<AdtId> {
        match self.kind(self.autoderef(id)) {
            TyKind::Adt(adt, _) => Some(*adt),
            _ => None,
        }
    }

    /// The lock type a value designates after auto-deref: `(is_rwlock, flavor, protected type)`.
    pub fn lock(&self, id: TyId) -> Option<(bool, LockFlavor, TyId)> {
        let id = self.autoderef(id);
        match self.kind(id) {
            TyKind::Lib(LibTy::Mutex(flavor), args) => Some((
                false,
                *flavor,
                args.first().copied().unwrap_or(TyId::UNKNOWN),
            )),
            TyKind::Lib(LibTy::RwLock(flavor), args) => Some((
                true,
                *flavor,
                args.first().copied().unwrap_or(TyId::UNKNOWN),
            )),
            _ => None,
        }
    }

    /// The map a value designates after auto-deref: `(flavor, value type)`.
    pub fn map(&self, id: TyId) -> Option<(MapFlavor, TyId)> {
        let id = self.autoderef(id);
        match self.kind(id) {
            TyKind::Lib(LibTy::Map { flavor, is_set }, args) => {
                let value = if *is_set { args.first() } else { args.get(1) };
                Some((*flavor, value.copied().unwrap_or(TyId::UNKNOWN)))
            }
            _ => None,
        }
    }

    /// What a map (its values) or a sequence (its elements) owns, after auto-deref.
    pub fn container_values(&self, id: TyId) -> Option<TyId> {
        if let Some((_, value)) = self.map(id) {
            return Some(value);
        }
        match self.kind(self.autoderef(id)) {
            TyKind::Lib(LibTy::Vec, args) => args.first().copied(),
            _ => None,
        }
    }

    /// Shared ownership or a borrow: dropping this does not drop the object it points to
    /// unless it is the last owner.
    pub fn is_shared_pointer(&self, id: TyId) -> bool {
        matches!(
            self.kind(id),
            TyKind::Ref(..)
                | TyKind::Ptr(..)
                | TyKind::Lib(LibTy::Arc | LibTy::Rc | LibTy::Weak, _)
        )
    }

    pub fn display(&self, id: TyId, adt_name: &dyn Fn(AdtId) -> String) -> String {
        let args = |args: &[TyId]| -> String {
            if args.is_empty() || args.iter().all(|arg| arg.is_unknown()) {
                String::new()
            } else {
                format!(
                    "<{}>",
                    args.iter()
                        .map(|&arg| self.display(arg, adt_name))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        };
        match self.kind(id) {
            TyKind::Unknown => "_".to_string(),
            TyKind::Adt(adt, list) => format!("{}{}", adt_name(*adt), args(list)),
            TyKind::Lib(lib, list) => format!("{}{}", lib_name(*lib), args(list)),
            TyKind::Ref(inner, mutable) => format!(
                "&{}{}",
                if *mutable { "mut " } else { "" },
                self.display(*inner, adt_name)
            ),
            TyKind::Ptr(inner, mutable) => format!(
                "*{} {}",
                if *mutable { "mut" } else { "const" },
                self.display(*inner, adt_name)
            ),
            TyKind::Tuple(list) => format!(
                "({})",
                list.iter()
                    .map(|&arg| self.display(arg, adt_name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            TyKind::Slice(inner) => format!("[{}]", self.display(*inner, adt_name)),
            TyKind::Param(name) | TyKind::Opaque(name) => name.to_string(),
            TyKind::Dyn(name) => format!("dyn {name}"),
            TyKind::Never => "!".to_string(),
            TyKind::AsyncCall(_) => "impl Future".to_string(),
        }
    }
}

fn lib_name(lib: LibTy) -> &'static str {
    match lib {
        LibTy::Map {
            flavor: MapFlavor::Sharded,
            ..
        } => "DashMap",
        LibTy::Map { is_set: true, .. } => "HashSet",
        LibTy::Map { .. } => "HashMap",
        LibTy::Mutex(_) => "Mutex",
        LibTy::RwLock(_) => "RwLock",
        LibTy::Guard {
            flavor: LockFlavor::RefCell,
        } => "RefMut",
        LibTy::Guard {
            flavor: LockFlavor::Shard,
        } => "dashmap::Ref",
        LibTy::Guard { .. } => "MutexGuard",
        LibTy::Arc => "Arc",
        LibTy::Rc => "Rc",
        LibTy::Weak => "Weak",
        LibTy::Box => "Box",
        LibTy::Option => "Option",
        LibTy::Result => "Result",
        LibTy::Vec => "Vec",
        LibTy::RefCell => "RefCell",
        LibTy::Cell => "Cell",
        LibTy::UnsafeCell => "UnsafeCell",
        LibTy::Lazy => "LazyLock",
        LibTy::Transparent => "Wrapper",
        LibTy::ManuallyDrop => "ManuallyDrop",
        LibTy::ScopeGuard => "ScopeGuard",
        LibTy::JoinHandle => "JoinHandle",
        LibTy::String => "String",
        LibTy::Atomic => "Atomic",
        LibTy::WaitGroup => "WaitGroup",
        LibTy::Once => "Once",
        LibTy::Channel => "chan",
        LibTy::LocalKey => "LocalKey",
    }
}

/// Classifies a library type by its full path (`["std", "sync", "Mutex"]`) or, when its origin
/// is unknown, by its bare name.
pub fn classify_lib_type(path: &[&str]) -> Option<LibTy> {
    let last = *path.last()?;
    let krate = if path.len() > 1 { path[0] } else { "" };
    let lock_flavor = || match krate {
        "std" | "core" | "alloc" => LockFlavor::Std,
        "parking_lot" | "lock_api" => LockFlavor::ParkingLot,
        "spin" => LockFlavor::Spin,
        "tokio" => LockFlavor::Tokio,
        "async_std" | "futures" | "futures_util" | "async_lock" | "smol" => LockFlavor::AsyncOther,
        "sync" => LockFlavor::Go,
        _ => LockFlavor::Unknown,
    };
    // Go's library types, by import path.
    match (krate, last) {
        ("", "map") => {
            return Some(LibTy::Map {
                flavor: MapFlavor::Plain,
                is_set: false,
            });
        }
        ("sync", "RWMutex") => return Some(LibTy::RwLock(LockFlavor::Go)),
        ("sync", "Map") => return None,
        ("sync", "WaitGroup") => return Some(LibTy::WaitGroup),
        ("sync", "Once") => return Some(LibTy::Once),
        ("", "chan") => return Some(LibTy::Channel),
        ("golang.org/x/sync/errgroup", "Group") => return Some(LibTy::WaitGroup),
        ("net/http", "Header") | ("net/url", "Values") => {
            return Some(LibTy::Map {
                flavor: MapFlavor::Plain,
                is_set: false,
            });
        }
        _ => {}
    }
    let sharded_crate = matches!(
        krate,
        "dashmap" | "scc" | "papaya" | "flurry" | "evmap" | "chashmap"
    );
    Some(match last {
        "HashMap" | "BTreeMap" | "IndexMap" | "FxHashMap" | "AHashMap" | "FnvHashMap"
        | "LinkedHashMap" | "LruCache" => LibTy::Map {
            flavor: if sharded_crate {
                MapFlavor::Sharded
            } else {
                MapFlavor::Plain
            },
            is_set: false,
        },
        "HashSet" | "BTreeSet" | "IndexSet" | "FxHashSet" | "AHashSet" | "FnvHashSet" => {
            LibTy::Map {
                flavor: if sharded_crate {
                    MapFlavor::Sharded
                } else {
                    MapFlavor::Plain
                },
                is_set: true,
            }
        }
        // Keyed arenas: `insert` gives the key, `remove` gives the value back.
        "SlotMap" | "DenseSlotMap" | "HopSlotMap" | "SecondaryMap" | "SparseSecondaryMap" => {
            LibTy::Map {
                flavor: MapFlavor::Plain,
                is_set: false,
            }
        }
        "Slab" if matches!(krate, "slab" | "") => LibTy::Map {
            flavor: MapFlavor::Plain,
            is_set: false,
        },
        "DashMap" => LibTy::Map {
            flavor: MapFlavor::Sharded,
            is_set: false,
        },
        "DashSet" => LibTy::Map {
            flavor: MapFlavor::Sharded,
            is_set: true,
        },
        "Mutex" | "FairMutex" => LibTy::Mutex(lock_flavor()),
        "RwLock" => LibTy::RwLock(lock_flavor()),
        "MutexGuard" | "RwLockReadGuard" | "RwLockWriteGuard" | "OwnedMutexGuard"
        | "MappedMutexGuard" => LibTy::Guard {
            flavor: lock_flavor(),
        },
        // `std::cell::Ref`, `dashmap::mapref::one::Ref`: only from a known crate, since
        // programs name their own types `Ref` too.
        "Ref" | "RefMut" if matches!(krate, "std" | "core") => LibTy::Guard {
            flavor: LockFlavor::RefCell,
        },
        "Ref" | "RefMut" if krate == "dashmap" => LibTy::Guard {
            flavor: LockFlavor::Shard,
        },
        "Arc" => LibTy::Arc,
        "Rc" => LibTy::Rc,
        "Weak" => LibTy::Weak,
        "Box" => LibTy::Box,
        "Option" => LibTy::Option,
        "Result" | "LockResult" | "TryLockResult" => LibTy::Result,
        "Vec" | "VecDeque" | "SmallVec" | "LinkedList" | "BinaryHeap" => LibTy::Vec,
        "RefCell" => LibTy::RefCell,
        "Cell" => LibTy::Cell,
        "UnsafeCell" | "SyncUnsafeCell" => LibTy::UnsafeCell,
        "LazyLock" | "OnceLock" | "Lazy" | "OnceCell" | "LazyCell" => LibTy::Lazy,
        "ManuallyDrop" => LibTy::ManuallyDrop,
        "Pin" | "AssertUnwindSafe" | "CachePadded" => LibTy::Transparent,
        "ScopeGuard" => LibTy::ScopeGuard,
        "JoinHandle" | "ScopedJoinHandle" => LibTy::JoinHandle,
        "String" => LibTy::String,
        name if name.starts_with("Atomic") && name.len() > 6 => LibTy::Atomic,
        _ => return None,
    })
}
