// What a response shows, named the way domain events name things, so that an event can find
// every cached response it makes stale. The response is walked with the operation's own type
// information (the client's document is executed as sent, so what it receives is untouched):
//
// - `<Type>:<id>` for every object of a type with an `id` field, when the client selected it;
// - `<Type>:*` for such an object whose id the client did not select: any change to any
//   object of that type then drops the response;
// - `<Type>:<id>` for each root field asked for by `id` (its answer may be null or an error
//   until that entity exists, and must not outlive its creation);
// - `Query.<field>` for each root field, for the lists a new entity joins (a new event joins
//   `events` even when no cached page shows any event yet).
import {
  getArgumentValues,
  getNamedType,
  getOperationAST,
  isAbstractType,
  isCompositeType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionNode,
} from "graphql";

/** The tag of one entity; `*` as the id stands for every entity of the type. */
export const entityTag = (type: string, id: string) => `${type}:${id}`;
export const rootFieldTag = (field: string) => `Query.${field}`;

/** The tags an entity's change reaches: its own and its type's id-less objects. */
export function reachedBy(tag: string): string[] {
  const colon = tag.indexOf(":");
  return colon < 0 ? [tag] : [tag, `${tag.slice(0, colon)}:*`];
}

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  tags: Set<string>;
}

/** The fields a selection set asks of an object of `type`, by response key (aliases apart). */
function collectFields(
  walk: Walk,
  type: GraphQLObjectType,
  selections: readonly SelectionNode[],
  into = new Map<string, FieldNode[]>(),
  seen = new Set<string>(),
): Map<string, FieldNode[]> {
  const applies = (condition: string | undefined) => {
    if (condition === undefined || condition === type.name) return true;
    const conditionType = walk.schema.getType(condition);
    return conditionType !== undefined && isAbstractType(conditionType)
      ? walk.schema.isSubType(conditionType, type)
      : false;
  };
  for (const selection of selections) {
    switch (selection.kind) {
      case Kind.FIELD: {
        const key = selection.alias?.value ?? selection.name.value;
        const nodes = into.get(key);
        if (nodes) nodes.push(selection);
        else into.set(key, [selection]);
        break;
      }
      case Kind.INLINE_FRAGMENT:
        if (applies(selection.typeCondition?.name.value)) {
          collectFields(walk, type, selection.selectionSet.selections, into, seen);
        }
        break;
      case Kind.FRAGMENT_SPREAD: {
        const name = selection.name.value;
        const fragment = walk.fragments.get(name);
        if (!fragment || seen.has(name) || !applies(fragment.typeCondition.name.value)) break;
        seen.add(name);
        collectFields(walk, type, fragment.selectionSet.selections, into, seen);
        break;
      }
    }
  }
  return into;
}

function walkValue(
  walk: Walk,
  type: GraphQLCompositeType,
  selections: readonly SelectionNode[],
  value: unknown,
): void {
  if (value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    for (const item of value) walkValue(walk, type, selections, item);
    return;
  }
  const object = value as Record<string, unknown>;
  let types: readonly GraphQLObjectType[];
  if (isObjectType(type)) {
    types = [type];
  } else {
    // Without its __typename the object could be any of them: tagging for each only widens
    // what invalidates the response, never narrows it.
    const named = typeof object.__typename === "string" ? walk.schema.getType(object.__typename) : undefined;
    types = named && isObjectType(named) ? [named] : walk.schema.getPossibleTypes(type);
  }
  for (const objectType of types) walkObject(walk, objectType, selections, object);
}

function walkObject(
  walk: Walk,
  type: GraphQLObjectType,
  selections: readonly SelectionNode[],
  object: Record<string, unknown>,
): void {
  const fields = collectFields(walk, type, selections);
  const definitions = type.getFields();
  if (definitions.id) {
    let id: unknown;
    for (const [key, nodes] of fields) {
      if (nodes[0]!.name.value === "id" && object[key] !== undefined) id = object[key];
    }
    walk.tags.add(entityTag(type.name, typeof id === "string" || typeof id === "number" ? String(id) : "*"));
  }
  for (const [key, nodes] of fields) {
    const definition = definitions[nodes[0]!.name.value];
    if (!definition) continue;
    const named = getNamedType(definition.type);
    if (!isCompositeType(named)) continue;
    const below = nodes.flatMap((node) => node.selectionSet?.selections ?? []);
    walkValue(walk, named, below, object[key]);
  }
}

/** Every tag of a query's response data; see the top of this file. */
export function responseTags(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
  data: Record<string, unknown> | null | undefined,
): Set<string> {
  const walk: Walk = {
    schema,
    fragments: new Map(
      document.definitions
        .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
        .map((fragment) => [fragment.name.value, fragment]),
    ),
    tags: new Set(),
  };
  const operation = getOperationAST(document, operationName);
  const root = schema.getQueryType();
  if (!operation || !root) return walk.tags;
  const definitions = root.getFields();
  for (const nodes of collectFields(walk, root, operation.selectionSet.selections).values()) {
    const node = nodes[0]!;
    const definition = definitions[node.name.value];
    if (!definition) continue;
    walk.tags.add(rootFieldTag(definition.name));
    if (!definition.args.some((arg) => arg.name === "id")) continue;
    const named = getNamedType(definition.type);
    try {
      const { id } = getArgumentValues(definition, node, variables ?? {});
      if (typeof id === "string" || typeof id === "number") walk.tags.add(entityTag(named.name, String(id)));
    } catch {
      // Arguments that do not coerce: the response is an error, which is never cached.
    }
  }
  walkObject(walk, root, operation.selectionSet.selections, data ?? {});
  return walk.tags;
}
