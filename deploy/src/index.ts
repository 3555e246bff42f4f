// deploy tooling: not implemented yet (see the deploy issue).
export {}
