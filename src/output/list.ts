/** The JSON/YAML shape of a listing: kubectl's List, versioned by nodedoc. */
export interface ItemList<T> {
  apiVersion: 'nodedoc/v1'
  kind: string
  items: T[]
}

export function itemList<T>(kind: string, items: T[]): ItemList<T> {
  return {apiVersion: 'nodedoc/v1', kind, items}
}
