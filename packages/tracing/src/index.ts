// @o11y/tracing: not implemented yet. This package is an empty shell until its issue lands;
// it exports nothing so that no one mistakes it for a working package.
export {}
