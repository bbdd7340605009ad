"""The subset of the Admin GraphQL 2025-01 schema the sandbox executes, as SDL.

Every type, field, argument and enum value here exists with the same name and type in the official introspection
(`admin_schema_2025-01.json.gz`); tests check that, so documents valid here are valid against the real API. The
sandbox needs no spec files at run time.
"""

from __future__ import annotations

import functools

from graphql import GraphQLSchema, build_schema

API_VERSION = "2025-01"

SDL = """
schema { query: QueryRoot mutation: Mutation }

scalar DateTime
scalar Decimal
scalar HTML
scalar Money

interface Node { id: ID! }

type PageInfo {
  endCursor: String
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
}

enum CurrencyCode { AUD CAD CHF EUR GBP JPY USD }
enum ProductStatus { ACTIVE ARCHIVED DRAFT }
enum ProductVariantSortKeys { ID INVENTORY_QUANTITY SKU TITLE }
enum OrderSortKeys { CREATED_AT ID UPDATED_AT }
enum OrderCancelReason { CUSTOMER DECLINED FRAUD INVENTORY OTHER STAFF }
enum OrderDisplayFinancialStatus { AUTHORIZED PAID PARTIALLY_REFUNDED PENDING REFUNDED VOIDED }
enum OrderDisplayFulfillmentStatus { FULFILLED PARTIALLY_FULFILLED UNFULFILLED }
enum ProductVariantInventoryPolicy { CONTINUE DENY }

type Shop implements Node {
  id: ID!
  name: String!
  myshopifyDomain: String!
  currencyCode: CurrencyCode!
}

type Location implements Node {
  id: ID!
  name: String!
  isActive: Boolean!
}

type InventoryQuantity implements Node {
  id: ID!
  name: String!
  quantity: Int!
  updatedAt: DateTime
}

type InventoryLevel implements Node {
  id: ID!
  item: InventoryItem!
  location: Location!
  quantities(names: [String!]!): [InventoryQuantity!]!
  updatedAt: DateTime!
}

type InventoryItem implements Node {
  id: ID!
  sku: String
  tracked: Boolean!
  inventoryLevel(locationId: ID!): InventoryLevel
  variant: ProductVariant!
}

type ProductVariant implements Node {
  id: ID!
  sku: String
  barcode: String
  price: Money!
  title: String!
  inventoryPolicy: ProductVariantInventoryPolicy!
  inventoryQuantity: Int
  inventoryItem: InventoryItem!
  product: Product!
  createdAt: DateTime!
  updatedAt: DateTime!
}

type ProductVariantEdge { cursor: String! node: ProductVariant! }
type ProductVariantConnection {
  edges: [ProductVariantEdge!]!
  nodes: [ProductVariant!]!
  pageInfo: PageInfo!
}

type Count { count: Int! }

type Product implements Node {
  id: ID!
  title: String!
  handle: String!
  descriptionHtml: HTML!
  vendor: String!
  productType: String!
  status: ProductStatus!
  tags: [String!]!
  createdAt: DateTime!
  updatedAt: DateTime!
  variantsCount: Count
  variants(first: Int, after: String, last: Int, before: String, reverse: Boolean,
           sortKey: ProductVariantSortKeys): ProductVariantConnection!
}

type MoneyV2 { amount: Decimal! currencyCode: CurrencyCode! }
type MoneyBag { presentmentMoney: MoneyV2! shopMoney: MoneyV2! }

type LineItem implements Node {
  id: ID!
  sku: String
  title: String!
  quantity: Int!
  currentQuantity: Int!
  originalUnitPriceSet: MoneyBag!
  variant: ProductVariant
}
type LineItemEdge { cursor: String! node: LineItem! }
type LineItemConnection { edges: [LineItemEdge!]! nodes: [LineItem!]! pageInfo: PageInfo! }

type Order implements Node {
  id: ID!
  name: String!
  createdAt: DateTime!
  updatedAt: DateTime!
  cancelledAt: DateTime
  cancelReason: OrderCancelReason
  closed: Boolean!
  currencyCode: CurrencyCode!
  displayFinancialStatus: OrderDisplayFinancialStatus
  displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
  sourceIdentifier: String
  totalPriceSet: MoneyBag!
  lineItems(first: Int, after: String, last: Int, before: String, reverse: Boolean): LineItemConnection!
}
type OrderEdge { cursor: String! node: Order! }
type OrderConnection { edges: [OrderEdge!]! nodes: [Order!]! pageInfo: PageInfo! }

type QueryRoot {
  shop: Shop!
  location(id: ID): Location
  nodes(ids: [ID!]!): [Node]!
  inventoryItem(id: ID!): InventoryItem
  productVariant(id: ID!): ProductVariant
  productVariants(first: Int, after: String, last: Int, before: String, reverse: Boolean,
                  sortKey: ProductVariantSortKeys, query: String): ProductVariantConnection!
  order(id: ID!): Order
  orders(first: Int, after: String, last: Int, before: String, reverse: Boolean,
         sortKey: OrderSortKeys, query: String): OrderConnection!
}

# ---- mutations ----------------------------------------------------------------------------------------------------

type UserError { field: [String!] message: String! }

input OptionValueSetInput { id: ID name: String }
input OptionSetInput { id: ID name: String position: Int values: [OptionValueSetInput!] }
input VariantOptionValueInput { id: ID name: String optionId: ID optionName: String }
input InventoryItemInput { sku: String tracked: Boolean cost: Decimal requiresShipping: Boolean }
input ProductSetInventoryInput { locationId: ID! name: String! quantity: Int! }
input ProductVariantSetInput {
  id: ID
  sku: String
  barcode: String
  price: Money
  compareAtPrice: Money
  inventoryPolicy: ProductVariantInventoryPolicy
  inventoryItem: InventoryItemInput
  inventoryQuantities: [ProductSetInventoryInput!]
  optionValues: [VariantOptionValueInput!]!
  position: Int
  taxable: Boolean
}
input ProductSetInput {
  id: ID
  title: String
  descriptionHtml: String
  handle: String
  vendor: String
  productType: String
  status: ProductStatus
  tags: [String!]
  productOptions: [OptionSetInput!]
  variants: [ProductVariantSetInput!]
}
enum ProductSetUserErrorCode {
  GENERIC_ERROR INVALID_INPUT INVALID_PRODUCT INVALID_VARIANT OPTION_DOES_NOT_EXIST PRODUCT_DOES_NOT_EXIST
  PRODUCT_OPTIONS_INPUT_MISSING PRODUCT_VARIANT_DOES_NOT_EXIST VARIANTS_OVER_LIMIT
}
type ProductSetUserError { code: ProductSetUserErrorCode field: [String!] message: String! }
type ProductSetPayload { product: Product userErrors: [ProductSetUserError!]! }

input ProductUpdateInput {
  id: ID
  title: String
  descriptionHtml: String
  handle: String
  vendor: String
  productType: String
  status: ProductStatus
  tags: [String!]
}
type ProductUpdatePayload { product: Product userErrors: [UserError!]! }

input ProductVariantsBulkInput {
  id: ID
  price: Money
  compareAtPrice: Money
  barcode: String
  inventoryPolicy: ProductVariantInventoryPolicy
  inventoryItem: InventoryItemInput
  taxable: Boolean
}
enum ProductVariantsBulkUpdateUserErrorCode {
  GREATER_THAN_OR_EQUAL_TO INVALID_INPUT MUST_BE_FOR_THIS_PRODUCT NEGATIVE_PRICE_VALUE PRODUCT_DOES_NOT_EXIST
  PRODUCT_VARIANT_DOES_NOT_EXIST PRODUCT_VARIANT_ID_MISSING
}
type ProductVariantsBulkUpdateUserError {
  code: ProductVariantsBulkUpdateUserErrorCode
  field: [String!]
  message: String!
}
type ProductVariantsBulkUpdatePayload {
  product: Product
  productVariants: [ProductVariant!]
  userErrors: [ProductVariantsBulkUpdateUserError!]!
}

input InventoryQuantityInput { inventoryItemId: ID! locationId: ID! quantity: Int! compareQuantity: Int }
input InventorySetQuantitiesInput {
  name: String!
  reason: String!
  referenceDocumentUri: String
  quantities: [InventoryQuantityInput!]!
  ignoreCompareQuantity: Boolean
}
enum InventorySetQuantitiesUserErrorCode {
  COMPARE_QUANTITY_REQUIRED COMPARE_QUANTITY_STALE INVALID_INVENTORY_ITEM INVALID_LOCATION INVALID_NAME
  INVALID_QUANTITY_NEGATIVE INVALID_QUANTITY_TOO_HIGH INVALID_REASON INVALID_REFERENCE_DOCUMENT
  ITEM_NOT_STOCKED_AT_LOCATION NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR
}
type InventorySetQuantitiesUserError {
  code: InventorySetQuantitiesUserErrorCode
  field: [String!]
  message: String!
}
type InventoryChange {
  name: String!
  delta: Int!
  quantityAfterChange: Int
  item: InventoryItem
  location: Location
  ledgerDocumentUri: String
}
type InventoryAdjustmentGroup implements Node {
  id: ID!
  createdAt: DateTime!
  reason: String!
  referenceDocumentUri: String
  changes(inventoryItemIds: [ID!], locationIds: [ID!], quantityNames: [String!]): [InventoryChange!]!
}
type InventorySetQuantitiesPayload {
  inventoryAdjustmentGroup: InventoryAdjustmentGroup
  userErrors: [InventorySetQuantitiesUserError!]!
}

enum OrderCancelUserErrorCode { INVALID NOT_FOUND NO_REFUND_PERMISSION }
type OrderCancelUserError { code: OrderCancelUserErrorCode field: [String!] message: String! }
type Job { id: ID! done: Boolean! }
type OrderCancelPayload {
  job: Job
  orderCancelUserErrors: [OrderCancelUserError!]!
  userErrors: [UserError!]!
}

type Mutation {
  productSet(input: ProductSetInput!, synchronous: Boolean): ProductSetPayload
  productUpdate(product: ProductUpdateInput): ProductUpdatePayload
  productVariantsBulkUpdate(productId: ID!, variants: [ProductVariantsBulkInput!]!,
                            allowPartialUpdates: Boolean): ProductVariantsBulkUpdatePayload
  inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload
  orderCancel(orderId: ID!, refund: Boolean!, restock: Boolean!, reason: OrderCancelReason!,
              notifyCustomer: Boolean, staffNote: String): OrderCancelPayload
}
"""


@functools.lru_cache(maxsize=1)
def subset_schema() -> GraphQLSchema:
    """A fresh schema object per process; resolvers are attached by the sandbox (see resolvers.attach)."""
    return build_schema(SDL)
