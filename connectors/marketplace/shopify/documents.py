"""Every GraphQL document the Shopify adapter sends (Admin API 2025-01). Tests validate each one against the official
introspection schema, so keep them here as constants, never built from strings at run time.

`cost` is the adapter's estimate of Shopify's requestedQueryCost (objects 1, connections 2 + n x node, mutations 10)
used to take tokens from the client-side bucket before sending; `node_cost` scales connections by page size.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    name: str
    text: str
    cost: int  # fixed part of the requested cost
    node_cost: int = 0  # per requested node of the sized connection / ids list

    @property
    def is_mutation(self) -> bool:
        return self.text.lstrip().startswith("mutation")

    def estimate(self, nodes: int = 0) -> int:
        return self.cost + self.node_cost * nodes


SHOP = Document(
    "MerchflowShop",
    """
query MerchflowShop {
  shop { currencyCode }
  location { id }
}
""",
    cost=2,
)

LISTINGS = Document(
    "MerchflowListings",
    """
query MerchflowListings($first: Int!, $after: String, $locationId: ID!) {
  productVariants(first: $first, after: $after, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      sku
      price
      updatedAt
      product { id title status }
      inventoryItem {
        id
        inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } }
      }
    }
  }
}
""",
    cost=2,
    node_cost=5,
)

VARIANTS_BY_SKU = Document(
    "MerchflowVariantsBySku",
    """
query MerchflowVariantsBySku($first: Int!, $query: String!) {
  productVariants(first: $first, query: $query) {
    nodes { id sku product { id variantsCount { count } } inventoryItem { id } }
  }
}
""",
    cost=2,
    node_cost=4,
)

VARIANTS_BY_ID = Document(
    "MerchflowVariantsById",
    """
query MerchflowVariantsById($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename
    ... on ProductVariant { id sku product { id variantsCount { count } } inventoryItem { id } }
  }
}
""",
    cost=0,
    node_cost=4,
)

INVENTORY_LEVELS = Document(
    "MerchflowInventoryLevels",
    """
query MerchflowInventoryLevels($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    __typename
    ... on InventoryItem {
      id
      inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } }
    }
  }
}
""",
    cost=0,
    node_cost=3,
)

SET_QUANTITIES = Document(
    "MerchflowSetQuantities",
    """
mutation MerchflowSetQuantities($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}
""",
    cost=10,
)

SET_PRICES = Document(
    "MerchflowSetPrices",
    """
mutation MerchflowSetPrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants, allowPartialUpdates: true) {
    productVariants { id price }
    userErrors { code field message }
  }
}
""",
    cost=10,
)

PRODUCT_SET = Document(
    "MerchflowProductSet",
    """
mutation MerchflowProductSet($input: ProductSetInput!) {
  productSet(input: $input, synchronous: true) {
    product {
      id
      status
      variants(first: 10) { nodes { id sku inventoryItem { id } } }
    }
    userErrors { code field message }
  }
}
""",
    cost=10,
)

PRODUCT_UPDATE = Document(
    "MerchflowProductUpdate",
    """
mutation MerchflowProductUpdate($product: ProductUpdateInput!) {
  productUpdate(product: $product) {
    product { id status }
    userErrors { field message }
  }
}
""",
    cost=10,
)

ORDER_LINES_FIRST = 10
ORDERS = Document(
    "MerchflowOrders",
    """
query MerchflowOrders($first: Int!, $after: String, $query: String!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      name
      createdAt
      updatedAt
      cancelledAt
      currencyCode
      displayFinancialStatus
      displayFulfillmentStatus
      lineItems(first: 10) {
        pageInfo { hasNextPage endCursor }
        nodes { id sku quantity originalUnitPriceSet { shopMoney { amount currencyCode } } }
      }
    }
  }
}
""",
    cost=2,
    node_cost=1 + 2 + ORDER_LINES_FIRST * 3,
)

ORDER_LINES = Document(
    "MerchflowOrderLines",
    """
query MerchflowOrderLines($id: ID!, $after: String) {
  order(id: $id) {
    lineItems(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { id sku quantity originalUnitPriceSet { shopMoney { amount currencyCode } } }
    }
  }
}
""",
    cost=1 + 2 + 100 * 3,
)

ORDER_CANCEL = Document(
    "MerchflowOrderCancel",
    """
mutation MerchflowOrderCancel($orderId: ID!, $reason: OrderCancelReason!, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, refund: true, restock: true, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { code field message }
  }
}
""",
    cost=10,
)

ALL: tuple[Document, ...] = (
    SHOP,
    LISTINGS,
    VARIANTS_BY_SKU,
    VARIANTS_BY_ID,
    INVENTORY_LEVELS,
    SET_QUANTITIES,
    SET_PRICES,
    PRODUCT_SET,
    PRODUCT_UPDATE,
    ORDERS,
    ORDER_LINES,
    ORDER_CANCEL,
)
