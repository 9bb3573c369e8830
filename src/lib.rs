//! dangjian (党建): the JSON REST API of the "党员有限，服务无限" programme.
//! See README.md for an overview and the layout.

pub mod app;
pub mod audit;
pub mod auth;
pub mod config;
pub mod crypto;
pub mod db;
pub mod dictionaries;
pub mod error;
pub mod households;
pub mod http;
pub mod i18n;
pub mod income;
pub mod members;
pub mod openapi;
pub mod ops;
pub mod orgs;
pub mod overview;
pub mod pages;
pub mod pairings;
pub mod places;
pub mod pledges;
pub mod ratings;
pub mod seed;
pub mod server;
pub mod state;
pub mod telemetry;
pub mod users;
