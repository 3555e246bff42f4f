// Demo order service: not implemented yet (see the order-service issue).
export {}
