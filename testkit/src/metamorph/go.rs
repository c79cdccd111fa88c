//! Go rewrites (to be written): run by a Go program of our own under `testkit/go-rewriter/`,
//! which has go/types and so knows every identifier's object and every expression's type.
