//! Names where people read: a page says "MS · Main Street" and "Ann Lee
//! (C-1001)", and a list the API answers carries the store's code and name
//! and the customer's name and external ref beside their ids. Looked up once
//! per page.

use std::collections::HashMap;

use chrono_tz::Tz;

use crate::domain::customer::Customer;
use crate::domain::ids::{CustomerId, StaffId, StoreId, TenantId};
use crate::domain::store::Store;
use crate::error::Error;
use crate::store::DbConnection;
use crate::views::finance::{CustomerRef, StoreRef};

/// The tenant's stores, and the customers and staff a page has named so far.
pub(crate) struct Names {
    tenant: TenantId,
    stores: HashMap<StoreId, Store>,
    customers: HashMap<CustomerId, Customer>,
    staff: HashMap<StaffId, String>,
}

impl Names {
    /// The tenant's stores.
    pub(crate) fn load(conn: &mut DbConnection, tenant: TenantId) -> Result<Self, Error> {
        Ok(Self {
            tenant,
            stores: crate::store::stores::all(conn, tenant)?
                .into_iter()
                .map(|s| (s.id, s))
                .collect(),
            customers: HashMap::new(),
            staff: HashMap::new(),
        })
    }

    /// A store.
    pub(crate) fn store(&self, id: StoreId) -> Option<&Store> {
        self.stores.get(&id)
    }

    /// A store as people name it: "MS · Main Street".
    pub(crate) fn store_label(&self, id: StoreId) -> String {
        self.stores
            .get(&id)
            .map_or_else(|| id.to_string(), |s| format!("{} · {}", s.code, s.name))
    }

    /// A store as a list names it (its id alone if it is not found).
    pub(crate) fn store_ref(&self, id: StoreId) -> StoreRef {
        self.stores.get(&id).map_or_else(
            || StoreRef {
                id,
                code: String::new(),
                name: String::new(),
            },
            |s| StoreRef {
                id,
                code: s.code.clone(),
                name: s.name.clone(),
            },
        )
    }

    /// A customer as a list names them (read once per page).
    pub(crate) fn customer_ref(
        &mut self,
        conn: &mut DbConnection,
        id: CustomerId,
    ) -> Result<CustomerRef, Error> {
        let c = self.customer(conn, id)?;
        Ok(CustomerRef {
            id,
            name: c.name.clone(),
            external_ref: c.external_ref.clone(),
        })
    }

    /// A store's time zone (UTC for one not found).
    pub(crate) fn zone(&self, id: StoreId) -> Tz {
        self.stores.get(&id).map_or(chrono_tz::UTC, |s| s.time_zone)
    }

    /// The tenant's stores, by code.
    pub(crate) fn stores(&self) -> Vec<&Store> {
        let mut v: Vec<&Store> = self.stores.values().collect();
        v.sort_by(|a, b| a.code.cmp(&b.code));
        v
    }

    /// Reads the customers of `ids` at once (a page that names many).
    pub(crate) fn prefetch_customers(
        &mut self,
        conn: &mut DbConnection,
        ids: &[CustomerId],
    ) -> Result<(), Error> {
        let missing: Vec<CustomerId> = ids
            .iter()
            .filter(|id| !self.customers.contains_key(id))
            .copied()
            .collect();
        for c in crate::store::customers::by_ids(conn, self.tenant, &missing)? {
            self.customers.insert(c.id, c);
        }
        Ok(())
    }

    /// A customer (read once per page).
    pub(crate) fn customer(
        &mut self,
        conn: &mut DbConnection,
        id: CustomerId,
    ) -> Result<&Customer, Error> {
        if !self.customers.contains_key(&id) {
            let c = crate::store::customers::get(conn, self.tenant, id)?;
            self.customers.insert(id, c);
        }
        self.customers
            .get(&id)
            .ok_or_else(|| Error::internal("customer vanished from the page's names"))
    }

    /// A staff member's name (read once per page).
    pub(crate) fn staff(&mut self, conn: &mut DbConnection, id: StaffId) -> Result<String, Error> {
        if let Some(n) = self.staff.get(&id) {
            return Ok(n.clone());
        }
        let name = match crate::store::staff::get(conn, self.tenant, id) {
            Ok(s) => s.name,
            Err(Error::NotFound(_)) => id.to_string(),
            Err(e) => return Err(e),
        };
        self.staff.insert(id, name.clone());
        Ok(name)
    }
}
