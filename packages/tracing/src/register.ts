// @o11y/tracing/register: not implemented yet (see the tracing issue).
export {}
