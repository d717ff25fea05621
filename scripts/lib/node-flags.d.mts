export const NODE_FLAGS: Record<string, string[]>;
export function nodeFlagsOf(service: string): string[];
