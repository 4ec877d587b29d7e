/** The Pulumi program: users.yaml → one resource per user per system per environment. */
export async function program(): Promise<Record<string, unknown>> {
  return {};
}
