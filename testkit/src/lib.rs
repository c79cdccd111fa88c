//! What deferlint's tests share, outside the engine: the fixtures as the tests read them
//! (headers, markers, run claims), and the helpers that run a fixture's program to prove its
//! hazard. It is a library of its own so that the fixture tests, the hazard proofs and the
//! metamorphic variants all read fixtures the same way.

pub mod fixture;
pub mod metamorph;
pub mod proofs;
