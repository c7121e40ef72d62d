--
-- PostgreSQL database dump
--

\restrict girwDjCfbEToLnUcPvrJkgwumMVaE8bE3WXPwqYughprZaerZyqu6cwooBech8o

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: fod_upgrade_fixture; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA fod_upgrade_fixture;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: adjustment; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.adjustment (
    id text NOT NULL,
    dealer_id text NOT NULL,
    currency text NOT NULL,
    amount_minor bigint NOT NULL,
    reason text NOT NULL,
    objection_id text,
    created_at bigint NOT NULL,
    settled_in text
);


--
-- Name: api_key; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.api_key (
    id text NOT NULL,
    secret_sha256 text NOT NULL,
    role text NOT NULL,
    dealer_id text,
    label text NOT NULL,
    created_at bigint NOT NULL,
    revoked_at bigint
);


--
-- Name: audit; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.audit (
    seq bigint NOT NULL,
    at bigint NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    subject text NOT NULL,
    details text NOT NULL,
    prev_sha256 text NOT NULL,
    sha256 text NOT NULL
);


--
-- Name: cancellation; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.cancellation (
    entitlement_id text NOT NULL,
    cancelled_at bigint NOT NULL
);


--
-- Name: catalog_equipment_rule; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.catalog_equipment_rule (
    feature text NOT NULL,
    kind text NOT NULL,
    equipment text NOT NULL,
    "position" bigint NOT NULL,
    CONSTRAINT catalog_equipment_rule_kind_check CHECK ((kind = ANY (ARRAY['requires'::text, 'excludes'::text])))
);


--
-- Name: catalog_feature; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.catalog_feature (
    code text NOT NULL,
    "position" bigint NOT NULL,
    name text NOT NULL,
    min_model_year bigint,
    transferable boolean DEFAULT true NOT NULL
);


--
-- Name: catalog_feature_model; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.catalog_feature_model (
    feature text NOT NULL,
    model text NOT NULL
);


--
-- Name: catalog_price; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.catalog_price (
    feature text NOT NULL,
    market text NOT NULL,
    term text NOT NULL,
    currency text NOT NULL,
    gross_minor bigint NOT NULL,
    vat_bps bigint NOT NULL,
    "position" bigint NOT NULL,
    CONSTRAINT catalog_price_gross_minor_check CHECK ((gross_minor >= 0)),
    CONSTRAINT catalog_price_vat_bps_check CHECK (((vat_bps >= 0) AND (vat_bps <= 10000)))
);


--
-- Name: catalog_version; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.catalog_version (
    id bigint NOT NULL,
    version text NOT NULL,
    CONSTRAINT catalog_version_id_check CHECK ((id = 1))
);


--
-- Name: closed_line; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.closed_line (
    period text NOT NULL,
    n bigint NOT NULL,
    dealer_id text NOT NULL,
    currency text NOT NULL,
    kind text NOT NULL,
    event_id text NOT NULL,
    refers_to text NOT NULL,
    occurred_at bigint NOT NULL,
    vin text NOT NULL,
    feature text NOT NULL,
    term text NOT NULL,
    channel text NOT NULL,
    net_minor bigint NOT NULL,
    rule_id text NOT NULL,
    rate_bps bigint NOT NULL,
    share_minor bigint NOT NULL,
    reason text NOT NULL
);


--
-- Name: consent; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.consent (
    entitlement_id text NOT NULL,
    terms_version text,
    immediate_start boolean NOT NULL,
    acknowledged_at bigint,
    recorded_at bigint NOT NULL
);


--
-- Name: credit_note; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.credit_note (
    number text NOT NULL,
    period text NOT NULL,
    dealer_id text NOT NULL,
    currency text NOT NULL,
    year bigint NOT NULL,
    sequence bigint NOT NULL,
    kind text NOT NULL,
    total_minor bigint NOT NULL,
    document text NOT NULL
);


--
-- Name: dealer; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.dealer (
    id text NOT NULL,
    name text NOT NULL,
    market text NOT NULL,
    party text
);


--
-- Name: entitlement; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.entitlement (
    id text NOT NULL,
    issuer text NOT NULL,
    vin text NOT NULL,
    feature text NOT NULL,
    term text NOT NULL,
    dealer_id text,
    issued_at bigint NOT NULL,
    not_before bigint NOT NULL,
    expires_at bigint,
    token text NOT NULL,
    revoked_at bigint,
    revoke_reason text
);


--
-- Name: equipment; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.equipment (
    code text NOT NULL,
    name text NOT NULL
);


--
-- Name: event; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.event (
    event_id text NOT NULL,
    occurred_at bigint NOT NULL,
    kind text NOT NULL,
    refers_to text,
    vin text,
    feature text,
    term text,
    channel text,
    dealer_id text,
    market text,
    currency text,
    gross_minor bigint,
    vat_bps bigint,
    entitlement_id text,
    recorded bigint NOT NULL,
    CONSTRAINT event_kind_check CHECK ((kind = ANY (ARRAY['activation'::text, 'refund'::text])))
);


--
-- Name: event_recorded_seq; Type: SEQUENCE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE SEQUENCE fod_upgrade_fixture.event_recorded_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: event_recorded_seq; Type: SEQUENCE OWNED BY; Schema: fod_upgrade_fixture; Owner: -
--

ALTER SEQUENCE fod_upgrade_fixture.event_recorded_seq OWNED BY fod_upgrade_fixture.event.recorded;


--
-- Name: fod_migration; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.fod_migration (
    id text NOT NULL,
    applied_at bigint NOT NULL
);


--
-- Name: health; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.health (
    id bigint NOT NULL,
    checked_at bigint NOT NULL,
    CONSTRAINT health_id_check CHECK ((id = 1))
);


--
-- Name: idempotency; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.idempotency (
    principal text NOT NULL,
    key text NOT NULL,
    request_sha256 text NOT NULL,
    status bigint NOT NULL,
    body bytea NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: manifest_version; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.manifest_version (
    vin text NOT NULL,
    version bigint NOT NULL,
    content_sha256 text NOT NULL,
    issued_at bigint NOT NULL
);


--
-- Name: objection; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.objection (
    id text NOT NULL,
    credit_note text NOT NULL,
    dealer_id text NOT NULL,
    event_id text,
    reason text NOT NULL,
    status text NOT NULL,
    raised_at bigint NOT NULL,
    raised_by text NOT NULL,
    resolution text,
    resolved_at bigint,
    resolved_by text,
    CONSTRAINT objection_status_check CHECK ((status = ANY (ARRAY['open'::text, 'adjusted'::text, 'rejected'::text])))
);


--
-- Name: outbox; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.outbox (
    seq bigint NOT NULL,
    type text NOT NULL,
    occurred_at bigint NOT NULL,
    subject text NOT NULL,
    dealer_id text,
    data text NOT NULL
);


--
-- Name: ownership_transfer; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.ownership_transfer (
    vin text NOT NULL,
    effective_at bigint NOT NULL,
    recorded_at bigint NOT NULL
);


--
-- Name: period_close; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.period_close (
    period text NOT NULL,
    closed_at bigint NOT NULL,
    actor text NOT NULL,
    rules_version text NOT NULL,
    events_sha256 text NOT NULL,
    event_mark bigint NOT NULL,
    audit_seq bigint NOT NULL,
    audit_sha256 text NOT NULL,
    statement text NOT NULL,
    signature text NOT NULL
);


--
-- Name: reinstatement; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.reinstatement (
    entitlement_id text NOT NULL,
    reinstated_at bigint NOT NULL,
    revoked_at bigint,
    revoke_reason text,
    reason text NOT NULL
);


--
-- Name: renewal; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.renewal (
    previous_id text NOT NULL,
    next_id text NOT NULL,
    renewed_at bigint NOT NULL
);


--
-- Name: shared_secret; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.shared_secret (
    name text NOT NULL,
    secret text NOT NULL
);


--
-- Name: statement_key; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.statement_key (
    kid text NOT NULL,
    jwk text NOT NULL,
    first_used_at bigint NOT NULL
);


--
-- Name: trust_root; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.trust_root (
    version bigint NOT NULL,
    keys text NOT NULL,
    taken_at bigint NOT NULL
);


--
-- Name: vehicle; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.vehicle (
    vin text NOT NULL,
    model text NOT NULL,
    model_year bigint NOT NULL,
    market text NOT NULL,
    equipment text NOT NULL,
    dealer_id text,
    created_at bigint NOT NULL
);


--
-- Name: vehicle_dealer; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.vehicle_dealer (
    vin text NOT NULL,
    valid_from bigint NOT NULL,
    dealer_id text NOT NULL,
    recorded_at bigint NOT NULL
);


--
-- Name: web_session; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.web_session (
    id_sha256 text NOT NULL,
    api_key_id text NOT NULL,
    csrf text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);


--
-- Name: webhook_delivery; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.webhook_delivery (
    endpoint_id text NOT NULL,
    seq bigint NOT NULL,
    status text NOT NULL,
    attempts bigint NOT NULL,
    first_attempt_at bigint NOT NULL,
    last_attempt_at bigint NOT NULL,
    last_status bigint,
    last_error text
);


--
-- Name: webhook_endpoint; Type: TABLE; Schema: fod_upgrade_fixture; Owner: -
--

CREATE TABLE fod_upgrade_fixture.webhook_endpoint (
    id text NOT NULL,
    url text NOT NULL,
    types text NOT NULL,
    secret text NOT NULL,
    created_at bigint NOT NULL,
    deleted_at bigint,
    "position" bigint NOT NULL,
    next_attempt_ms bigint NOT NULL,
    lease_owner text,
    lease_until_ms bigint NOT NULL
);


--
-- Name: event recorded; Type: DEFAULT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.event ALTER COLUMN recorded SET DEFAULT nextval('fod_upgrade_fixture.event_recorded_seq'::regclass);


--
-- Data for Name: adjustment; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.adjustment (id, dealer_id, currency, amount_minor, reason, objection_id, created_at, settled_in) FROM stdin;
adj-93be21a078e33ceed840e4af2af67034	DE-10001	EUR	1234	objection obj-c3a3d609b1740986465204356f39bb1b: tier bonus of November	obj-c3a3d609b1740986465204356f39bb1b	1796083260	\N
\.


--
-- Data for Name: api_key; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.api_key (id, secret_sha256, role, dealer_id, label, created_at, revoked_at) FROM stdin;
6adb57f3a63e	1cfc58e5020ed6923ba72373ba02f222cbb42629386632bbd3a102053618fc99	admin	\N	a	1795000000	\N
c0958d04fe6a	7267eeee63c38e32a85bd7d54e3db56acbff4226ed29905825f13f84031ccbd5	issuer	\N	i	1795000000	\N
281ca983083b	01916e1c17be4f7cdf5bd1993b891cbabac2b2bfc05bd372a8607dd494ec55af	auditor	\N	u	1795000000	\N
cbe3a3e6ab48	15fbc2c7bc517b1f9ea53105f96b420a4577d8607f1a490fc45ebaa79253a32c	dealer	DE-10001	d1	1795000000	\N
6a37ec1302c2	4b1b48c19970ff89a280e1ae567814dd5a42abda6c754fd8b9fb7c7c96e88d1b	dealer	DE-10002	d2	1795000000	\N
\.


--
-- Data for Name: audit; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.audit (seq, at, actor, action, subject, details, prev_sha256, sha256) FROM stdin;
1	1795000000	test	fixtures.import	catalog 2026.11	dealers=4 vehicles=6 features=6	0000000000000000000000000000000000000000000000000000000000000000	071fbef3ab2958e742f4494e41cdadba9cbaaa9ddcce7a995430bd9415ff3bfa
2	1795000000	test	apikey.create	6adb57f3a63e	role=admin dealer= label=a	071fbef3ab2958e742f4494e41cdadba9cbaaa9ddcce7a995430bd9415ff3bfa	e07a6701dbde4eb19ad9df335e1d3884566a024a202517ae69f782c889838879
3	1795000000	test	apikey.create	c0958d04fe6a	role=issuer dealer= label=i	e07a6701dbde4eb19ad9df335e1d3884566a024a202517ae69f782c889838879	ca1eedcc7b93c6d0721013c3cb0cac439653c5c2e1c579a9e47b18211ac575b4
4	1795000000	test	apikey.create	281ca983083b	role=auditor dealer= label=u	ca1eedcc7b93c6d0721013c3cb0cac439653c5c2e1c579a9e47b18211ac575b4	2a1ef74b17797d7e56f9e2272cd88f68975198bf4cd1e0b0a85a119eff0a4a7e
5	1795000000	test	apikey.create	cbe3a3e6ab48	role=dealer dealer=DE-10001 label=d1	2a1ef74b17797d7e56f9e2272cd88f68975198bf4cd1e0b0a85a119eff0a4a7e	adfb8cb4d19d384e2db720c30410d9b38b144a3b1e35f3e4b59802a24a81bbd8
6	1795000000	test	apikey.create	6a37ec1302c2	role=dealer dealer=DE-10002 label=d2	adfb8cb4d19d384e2db720c30410d9b38b144a3b1e35f3e4b59802a24a81bbd8	9a43e399974da56261f56bd7941db02c05ae2ed1490205a5b971c6d87c3f2674
7	1795000000	test	webhook.create	wh-ebd0d747aef92fd57449e56c190f1df8	url=https://hooks.example/fod types=*	9a43e399974da56261f56bd7941db02c05ae2ed1490205a5b971c6d87c3f2674	01803fa023f6b76cc74523d123d8ecd78d0c2cf60a1f98380d6de078366d28d7
8	1795000000	issuer:c0958d04fe6a	activation.create	01a1ee56-5e00-7fef-ac74-c3e87e133492	vin=WAUZZZF45RA000001 feature=NAV_PLUS term=P1Y channel=online dealer=DE-10001 gross=14900 EUR consent=terms:2026-11 immediate_start:false acknowledged_at:-	01803fa023f6b76cc74523d123d8ecd78d0c2cf60a1f98380d6de078366d28d7	2250c3adc28b8047fe73417503f1cccb2ec12db2cd14b9a1aa6dee6b25f6d4a6
9	1795000000	issuer:c0958d04fe6a	activation.create	01a1ee56-5e00-7a89-971e-293a9324b36f	vin=WAUZZZF45RA000001 feature=ACC term=subscription channel=online dealer=DE-10001 gross=2499 EUR consent=terms:2026-11 immediate_start:false acknowledged_at:-	2250c3adc28b8047fe73417503f1cccb2ec12db2cd14b9a1aa6dee6b25f6d4a6	acdb823df6f41007fcfd69f22440077033edfd1fe71fd5d5466329c646942f43
10	1795000000	dealer:6a37ec1302c2:DE-10002	activation.create	01a1ee56-5e00-7e10-9d8e-7fbd17661051	vin=WAUZZZFY7P2000002 feature=NAV_PLUS term=P1M channel=dealer dealer=DE-10002 gross=1490 EUR consent=terms:- immediate_start:false acknowledged_at:-	acdb823df6f41007fcfd69f22440077033edfd1fe71fd5d5466329c646942f43	b1af7278e69f75ad1faadc890741240a67dc0cea81cc4899df3feb42f30913e4
11	1795000000	dealer:6a37ec1302c2:DE-10002	activation.create	01a1ee56-5e00-74a0-bc35-58c125f10174	vin=3VWD07AJ5EM388202 feature=ACC term=subscription channel=dealer dealer=DE-10002 gross=2499 EUR consent=terms:- immediate_start:false acknowledged_at:-	b1af7278e69f75ad1faadc890741240a67dc0cea81cc4899df3feb42f30913e4	fed9ead33c2caec34c8f0461953f9bbed04f0a6cb72dede3c34b19452f02423c
12	1795000000	issuer:c0958d04fe6a	activation.refund	01a1ee56-5e00-7e10-9d8e-7fbd17661051		fed9ead33c2caec34c8f0461953f9bbed04f0a6cb72dede3c34b19452f02423c	6ac86fef25e6963d4cfd6581483e4d591e79f9bd505bd9a126571009b75a5ef9
13	1795000000	issuer:c0958d04fe6a	entitlement.revoke	01a1ee56-5e00-7e10-9d8e-7fbd17661051	reason=refund	6ac86fef25e6963d4cfd6581483e4d591e79f9bd505bd9a126571009b75a5ef9	b5c6233cfeb6c0a058c0ff18849f30a54ecc8835d06fc7dae05ee6d031b69650
14	1795000000	issuer:c0958d04fe6a	entitlement.revoke	01a1ee56-5e00-7fef-ac74-c3e87e133492	reason=fraud check	b5c6233cfeb6c0a058c0ff18849f30a54ecc8835d06fc7dae05ee6d031b69650	78bb2c0ea8a8fabd85d8e46dabc96b7ba687ba6ed2f6877c9dd7412dfbb9382f
15	1795000000	issuer:c0958d04fe6a	entitlement.reinstate	01a1ee56-5e00-7fef-ac74-c3e87e133492	reason=cleared revoked_at=1795000000 revoke_reason=fraud check	78bb2c0ea8a8fabd85d8e46dabc96b7ba687ba6ed2f6877c9dd7412dfbb9382f	f93e24cdb6e11e8832b9d4c59b0c38655e63bbacba1fa892bc860e7e55a21a43
16	1795000000	issuer:c0958d04fe6a	subscription.cancel	01a1ee56-5e00-7a89-971e-293a9324b36f	ends=2026-12-18T11:06:40Z	f93e24cdb6e11e8832b9d4c59b0c38655e63bbacba1fa892bc860e7e55a21a43	02df7b8d507fdf45bddf54faa85129d0c8d198dd18689bd6527e838fcb92080b
17	1795000000	issuer:c0958d04fe6a	vehicle.dealer	WAUZZZFY7P2000002	dealer=DE-10001 from=2026-11-19T11:06:40Z	02df7b8d507fdf45bddf54faa85129d0c8d198dd18689bd6527e838fcb92080b	ccf8e8e45c5906de5f497df48b3bd46210903b7d176de2407d0725b09e364eab
18	1795000000	issuer:c0958d04fe6a	vehicle.transfer	WAUZZZFY7P2000002	effective_at=2026-11-18T11:06:40Z ended= revoked=	ccf8e8e45c5906de5f497df48b3bd46210903b7d176de2407d0725b09e364eab	139a57808d8552681350d26f03aaaabb17461279cbf04f20c92dacf9c510b4dc
19	1795000000	system	manifest.version	WAUZZZF45RA000001	version=1	139a57808d8552681350d26f03aaaabb17461279cbf04f20c92dacf9c510b4dc	60ab53226c54e8636979b4f166ad7df0adfdf9bb106f105703012dedee0d4c15
20	1796083260	auditor:281ca983083b	period.close	2026-11	events_sha256=dca1c2c5a05ecc86a189f04793eab80861e4a11bcfbaabd1fb2cb660ca991b1f event_mark=5 audit_head=19:60ab53226c54e8636979b4f166ad7df0adfdf9bb106f105703012dedee0d4c15 rules=2026.12 lines=5 credit_notes=GS-2026-000001..GS-2026-000002	60ab53226c54e8636979b4f166ad7df0adfdf9bb106f105703012dedee0d4c15	3be8736b25632828cb6dd923fafc709f363ff27b5531988a2d24c83ec9901c3d
21	1796083260	dealer:cbe3a3e6ab48:DE-10001	objection.raise	obj-c3a3d609b1740986465204356f39bb1b	credit_note=GS-2026-000001 reason=the tier bonus is missing	3be8736b25632828cb6dd923fafc709f363ff27b5531988a2d24c83ec9901c3d	bdb2c863972aedb854d225ff9f44db1792ac21eafeee7d1f8e7882c401a72490
22	1796083260	auditor:281ca983083b	objection.adjusted	obj-c3a3d609b1740986465204356f39bb1b	credit_note=GS-2026-000001 amount=1234 reason=tier bonus of November	bdb2c863972aedb854d225ff9f44db1792ac21eafeee7d1f8e7882c401a72490	acb57b33be2c00f0a239d9e21265aefb5f11cfbe4955049fe272733849fd6a01
23	1797419200	system:renewal	subscription.renew	01a27e88-6e00-7d0d-bf62-354ad8bbafc9	renews=01a1ee56-5e00-74a0-bc35-58c125f10174 vin=3VWD07AJ5EM388202 feature=ACC term=subscription channel=dealer dealer=DE-10002 gross=2499 EUR consent=terms:- immediate_start:false acknowledged_at:-	acb57b33be2c00f0a239d9e21265aefb5f11cfbe4955049fe272733849fd6a01	45be84e60d211df91a625612a8bb4207f0dd434610dadb58fa04a701f16c2b14
24	1797419200	dealer:cbe3a3e6ab48:DE-10001	session.start	cbe3a3e6ab48	dealer web page	45be84e60d211df91a625612a8bb4207f0dd434610dadb58fa04a701f16c2b14	367b896065355796eb46720435d76a2608391ba41306306c30d92140b84dfd5e
25	1797419200	system	trust.rotate	1	keys=fixture-1	367b896065355796eb46720435d76a2608391ba41306306c30d92140b84dfd5e	dfccc94053367276436d7883e40966e2d008f01814535b482c1018d07634f53f
\.


--
-- Data for Name: cancellation; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.cancellation (entitlement_id, cancelled_at) FROM stdin;
01a1ee56-5e00-7a89-971e-293a9324b36f	1795000000
\.


--
-- Data for Name: catalog_equipment_rule; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.catalog_equipment_rule (feature, kind, equipment, "position") FROM stdin;
MATRIX_LED	requires	8G4	0
MATRIX_LED	excludes	8IT	0
NAV_PLUS	requires	7UG	0
PARK_ASSIST	requires	PCF	0
SOUND_PLUS	requires	9VD	0
\.


--
-- Data for Name: catalog_feature; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.catalog_feature (code, "position", name, min_model_year, transferable) FROM stdin;
MATRIX_LED	0	Matrix LED headlights	2021	t
NAV_PLUS	1	Navigation Plus	\N	t
MORE_POWER	2	More power (+40 kW)	2023	f
ACC	3	Adaptive cruise control	2020	t
PARK_ASSIST	4	Park assist plus	\N	t
SOUND_PLUS	5	Sound plus	\N	t
\.


--
-- Data for Name: catalog_feature_model; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.catalog_feature_model (feature, model) FROM stdin;
MATRIX_LED	A4
MATRIX_LED	A6
MATRIX_LED	Q5
MORE_POWER	A6
MORE_POWER	Q5
\.


--
-- Data for Name: catalog_price; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.catalog_price (feature, market, term, currency, gross_minor, vat_bps, "position") FROM stdin;
MATRIX_LED	DE	trial	EUR	0	1900	0
MATRIX_LED	DE	P1M	EUR	1900	1900	1
MATRIX_LED	DE	P1Y	EUR	17900	1900	2
MATRIX_LED	DE	permanent	EUR	39900	1900	3
MATRIX_LED	FR	P1M	EUR	1900	2000	4
MATRIX_LED	FR	P1Y	EUR	17900	2000	5
MATRIX_LED	FR	permanent	EUR	39900	2000	6
MATRIX_LED	JP	P1M	JPY	3000	1000	7
MATRIX_LED	JP	permanent	JPY	64000	1000	8
NAV_PLUS	DE	trial	EUR	0	1900	0
NAV_PLUS	DE	P1M	EUR	1490	1900	1
NAV_PLUS	DE	P1Y	EUR	14900	1900	2
NAV_PLUS	DE	P3Y	EUR	39900	1900	3
NAV_PLUS	FR	P1M	EUR	1490	2000	4
NAV_PLUS	FR	P1Y	EUR	14900	2000	5
NAV_PLUS	JP	P1Y	JPY	24000	1000	6
MORE_POWER	DE	P1M	EUR	4900	1900	0
MORE_POWER	DE	permanent	EUR	133900	1900	1
MORE_POWER	FR	permanent	EUR	133900	2000	2
ACC	DE	trial	EUR	0	1900	0
ACC	DE	P1M	EUR	2499	1900	1
ACC	DE	P6M	EUR	12900	1900	2
ACC	DE	subscription	EUR	2499	1900	3
ACC	DE	permanent	EUR	59900	1900	4
ACC	FR	P1M	EUR	2499	2000	5
ACC	FR	permanent	EUR	59900	2000	6
ACC	JP	P1M	JPY	4000	1000	7
ACC	JP	permanent	JPY	96000	1000	8
PARK_ASSIST	DE	P1Y	EUR	11999	1900	0
PARK_ASSIST	DE	permanent	EUR	29900	1900	1
PARK_ASSIST	FR	permanent	EUR	29900	2000	2
SOUND_PLUS	DE	P6M	EUR	4499	1900	0
SOUND_PLUS	DE	permanent	EUR	19900	1900	1
\.


--
-- Data for Name: catalog_version; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.catalog_version (id, version) FROM stdin;
1	2026.11
\.


--
-- Data for Name: closed_line; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.closed_line (period, n, dealer_id, currency, kind, event_id, refers_to, occurred_at, vin, feature, term, channel, net_minor, rule_id, rate_bps, share_minor, reason) FROM stdin;
2026-11	1	DE-10001	EUR	activation	act-01a1ee56-5e00-7a89-971e-293a9324b36f		1795000000000000000	WAUZZZF45RA000001	ACC	subscription	online	2100	online	500	105	
2026-11	2	DE-10001	EUR	activation	act-01a1ee56-5e00-7fef-ac74-c3e87e133492		1795000000000000000	WAUZZZF45RA000001	NAV_PLUS	P1Y	online	12521	online	500	626	
2026-11	3	DE-10002	EUR	activation	act-01a1ee56-5e00-74a0-bc35-58c125f10174		1795000000000000000	3VWD07AJ5EM388202	ACC	subscription	dealer	2100	pos	1000	210	
2026-11	4	DE-10002	EUR	activation	act-01a1ee56-5e00-7e10-9d8e-7fbd17661051		1795000000000000000	WAUZZZFY7P2000002	NAV_PLUS	P1M	dealer	1252	pos-nav	1200	350	
2026-11	5	DE-10002	EUR	clawback	ref-01a1ee56-5e00-7e10-9d8e-7fbd17661051	act-01a1ee56-5e00-7e10-9d8e-7fbd17661051	1795000000000000000	WAUZZZFY7P2000002	NAV_PLUS	P1M	dealer	1252	pos-nav	1200	-350	
\.


--
-- Data for Name: consent; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.consent (entitlement_id, terms_version, immediate_start, acknowledged_at, recorded_at) FROM stdin;
01a1ee56-5e00-7fef-ac74-c3e87e133492	2026-11	f	\N	1795000000
01a1ee56-5e00-7a89-971e-293a9324b36f	2026-11	f	\N	1795000000
01a1ee56-5e00-7e10-9d8e-7fbd17661051	\N	f	\N	1795000000
01a1ee56-5e00-74a0-bc35-58c125f10174	\N	f	\N	1795000000
01a27e88-6e00-7d0d-bf62-354ad8bbafc9	\N	f	\N	1797419200
\.


--
-- Data for Name: credit_note; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.credit_note (number, period, dealer_id, currency, year, sequence, kind, total_minor, document) FROM stdin;
GS-2026-000001	2026-11	DE-10001	EUR	2026	1	credit_note	870	{"currency":"EUR","dealer":{"address":{"city":"München","country":"DE","postcode":"80802","street":"Leopoldstraße 101"},"legal_name":"Autohaus Beispiel München GmbH","tax_number":"143/123/45678","vat_id":"DE123456788"},"dealer_id":"DE-10001","due_date":"2026-12-31","issue_date":"2026-12-01","issuer":{"address":{"city":"München","country":"DE","postcode":"80809","street":"Petuelring 1"},"legal_name":"Beispiel Motoren AG","vat_id":"DE812345673"},"kind":"credit_note","lines":[{"amount":731,"count":2,"description":"Provision 2026-11: 2 Aktivierung(en)"}],"net":731,"number":"GS-2026-000001","period":"2026-11","period_end":"2026-11-30","period_start":"2026-11-01","tax":139,"total":870,"vat":{"category":"S","rate_bps":1900}}
GS-2026-000002	2026-11	DE-10002	EUR	2026	2	credit_note	250	{"currency":"EUR","dealer":{"address":{"city":"Berlin","country":"DE","postcode":"10719","street":"Kurfürstendamm 200"},"legal_name":"Autohaus Muster Berlin GmbH & Co. KG","vat_id":"DE269543714"},"dealer_id":"DE-10002","due_date":"2026-12-31","issue_date":"2026-12-01","issuer":{"address":{"city":"München","country":"DE","postcode":"80809","street":"Petuelring 1"},"legal_name":"Beispiel Motoren AG","vat_id":"DE812345673"},"kind":"credit_note","lines":[{"amount":560,"count":2,"description":"Provision 2026-11: 2 Aktivierung(en)"},{"amount":-350,"count":1,"description":"Rückbelastung 2026-11: 1 Erstattung(en) und Widerruf(e)"}],"net":210,"number":"GS-2026-000002","period":"2026-11","period_end":"2026-11-30","period_start":"2026-11-01","tax":40,"total":250,"vat":{"category":"S","rate_bps":1900}}
\.


--
-- Data for Name: dealer; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.dealer (id, name, market, party) FROM stdin;
DE-10001	Autohaus Beispiel München	DE	{"address":{"city":"München","country":"DE","postcode":"80802","street":"Leopoldstraße 101"},"legal_name":"Autohaus Beispiel München GmbH","tax_number":"143/123/45678","vat_id":"DE123456788"}
DE-10002	Autohaus Muster Berlin	DE	{"address":{"city":"Berlin","country":"DE","postcode":"10719","street":"Kurfürstendamm 200"},"legal_name":"Autohaus Muster Berlin GmbH & Co. KG","vat_id":"DE269543714"}
FR-20001	Garage Exemple Lyon	FR	{"address":{"city":"Lyon","country":"FR","postcode":"69002","street":"12 rue de la République"},"legal_name":"Garage Exemple Lyon SAS","vat_id":"FR40123456824"}
JP-30001	Sample Motors Osaka	JP	{"address":{"city":"Osaka","country":"JP","postcode":"530-0001","street":"1-1 Umeda, Kita-ku"},"legal_name":"Sample Motors Osaka K.K.","tax_number":"T1234567890123"}
\.


--
-- Data for Name: entitlement; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.entitlement (id, issuer, vin, feature, term, dealer_id, issued_at, not_before, expires_at, token, revoked_at, revoke_reason) FROM stdin;
01a1ee56-5e00-7a89-971e-293a9324b36f	https://fod.test	WAUZZZF45RA000001	ACC	subscription	DE-10001	1795000000	1795000000	1797592000	eyJhbGciOiJFUzI1NiIsImtpZCI6IjNTeDdwV3NJTGpoTlVoOERaczc4eFNVN2RlVWtTNWRpelhXTU5ka3dkYkEiLCJ0eXAiOiJmb2QtZW50aXRsZW1lbnQrand0In0.eyJpc3MiOiJodHRwczovL2ZvZC50ZXN0Iiwic3ViIjoiV0FVWlpaRjQ1UkEwMDAwMDEiLCJqdGkiOiIwMWExZWU1Ni01ZTAwLTdhODktOTcxZS0yOTNhOTMyNGIzNmYiLCJpYXQiOjE3OTUwMDAwMDAsIm5iZiI6MTc5NTAwMDAwMCwiZXhwIjoxNzk3NTkyMDAwLCJmZWF0dXJlIjoiQUNDIiwidGVybSI6InN1YnNjcmlwdGlvbiIsImRlYWxlciI6IkRFLTEwMDAxIn0.KBIoiRmO32mkf31dqT7hgmG1CnjUzi07rlPWt84VnadgMMYSGbA328ApJwvko1EZIlY0LtYk5TCrucXUEnBpDw	\N	\N
01a1ee56-5e00-74a0-bc35-58c125f10174	https://fod.test	3VWD07AJ5EM388202	ACC	subscription	DE-10002	1795000000	1795000000	1797592000	eyJhbGciOiJFUzI1NiIsImtpZCI6IjNTeDdwV3NJTGpoTlVoOERaczc4eFNVN2RlVWtTNWRpelhXTU5ka3dkYkEiLCJ0eXAiOiJmb2QtZW50aXRsZW1lbnQrand0In0.eyJpc3MiOiJodHRwczovL2ZvZC50ZXN0Iiwic3ViIjoiM1ZXRDA3QUo1RU0zODgyMDIiLCJqdGkiOiIwMWExZWU1Ni01ZTAwLTc0YTAtYmMzNS01OGMxMjVmMTAxNzQiLCJpYXQiOjE3OTUwMDAwMDAsIm5iZiI6MTc5NTAwMDAwMCwiZXhwIjoxNzk3NTkyMDAwLCJmZWF0dXJlIjoiQUNDIiwidGVybSI6InN1YnNjcmlwdGlvbiIsImRlYWxlciI6IkRFLTEwMDAyIn0.lIzrqNFto_GBgybJEtMKpA9_0kEgyi0I8wCwNSw6Roi3Kq7s9U-LFR1tB2x6Z2qxQctvcLIiEkIKmAIl2ptZcw	\N	\N
01a1ee56-5e00-7e10-9d8e-7fbd17661051	https://fod.test	WAUZZZFY7P2000002	NAV_PLUS	P1M	DE-10002	1795000000	1795000000	1797592000	eyJhbGciOiJFUzI1NiIsImtpZCI6IjNTeDdwV3NJTGpoTlVoOERaczc4eFNVN2RlVWtTNWRpelhXTU5ka3dkYkEiLCJ0eXAiOiJmb2QtZW50aXRsZW1lbnQrand0In0.eyJpc3MiOiJodHRwczovL2ZvZC50ZXN0Iiwic3ViIjoiV0FVWlpaRlk3UDIwMDAwMDIiLCJqdGkiOiIwMWExZWU1Ni01ZTAwLTdlMTAtOWQ4ZS03ZmJkMTc2NjEwNTEiLCJpYXQiOjE3OTUwMDAwMDAsIm5iZiI6MTc5NTAwMDAwMCwiZXhwIjoxNzk3NTkyMDAwLCJmZWF0dXJlIjoiTkFWX1BMVVMiLCJ0ZXJtIjoiUDFNIiwiZGVhbGVyIjoiREUtMTAwMDIifQ.1SuYszk5vTLVi9srJSE6Nw7Q9Nt9paS29aMwFP8hTFOcrCYrrElrlbDdmG6LdwjQa_CgiFjdmmTRYtmf9rs4BQ	1795000000	refund
01a1ee56-5e00-7fef-ac74-c3e87e133492	https://fod.test	WAUZZZF45RA000001	NAV_PLUS	P1Y	DE-10001	1795000000	1795000000	1826536000	eyJhbGciOiJFUzI1NiIsImtpZCI6IjNTeDdwV3NJTGpoTlVoOERaczc4eFNVN2RlVWtTNWRpelhXTU5ka3dkYkEiLCJ0eXAiOiJmb2QtZW50aXRsZW1lbnQrand0In0.eyJpc3MiOiJodHRwczovL2ZvZC50ZXN0Iiwic3ViIjoiV0FVWlpaRjQ1UkEwMDAwMDEiLCJqdGkiOiIwMWExZWU1Ni01ZTAwLTdmZWYtYWM3NC1jM2U4N2UxMzM0OTIiLCJpYXQiOjE3OTUwMDAwMDAsIm5iZiI6MTc5NTAwMDAwMCwiZXhwIjoxODI2NTM2MDAwLCJmZWF0dXJlIjoiTkFWX1BMVVMiLCJ0ZXJtIjoiUDFZIiwiZGVhbGVyIjoiREUtMTAwMDEifQ.CRE07eKe7UsDBQQn7cXrChqU804LxzskIuSRBVkD2Y0caXHsCYp1sBokmHwe0e21LQDKUkbDUOFxm8_e9PcWkg	\N	\N
01a27e88-6e00-7d0d-bf62-354ad8bbafc9	https://fod.test	3VWD07AJ5EM388202	ACC	subscription	DE-10002	1797419200	1797592000	1800270400	eyJhbGciOiJFUzI1NiIsImtpZCI6IjNTeDdwV3NJTGpoTlVoOERaczc4eFNVN2RlVWtTNWRpelhXTU5ka3dkYkEiLCJ0eXAiOiJmb2QtZW50aXRsZW1lbnQrand0In0.eyJpc3MiOiJodHRwczovL2ZvZC50ZXN0Iiwic3ViIjoiM1ZXRDA3QUo1RU0zODgyMDIiLCJqdGkiOiIwMWEyN2U4OC02ZTAwLTdkMGQtYmY2Mi0zNTRhZDhiYmFmYzkiLCJpYXQiOjE3OTc0MTkyMDAsIm5iZiI6MTc5NzU5MjAwMCwiZXhwIjoxODAwMjcwNDAwLCJmZWF0dXJlIjoiQUNDIiwidGVybSI6InN1YnNjcmlwdGlvbiIsImRlYWxlciI6IkRFLTEwMDAyIn0.pLv2jqWswgVf4LPgB6fTkOczkfDPFz6quTc3Qp6ceRmq2rF25x-8TemnOzjzPKHoxxdH-KtOFxUCHf16UEbNUA	\N	\N
\.


--
-- Data for Name: equipment; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.equipment (code, name) FROM stdin;
7UG	MMI Plus hardware
8G4	LED headlight modules
8IT	basic halogen headlights
9VD	premium sound amplifier
PCF	parking sensors
\.


--
-- Data for Name: event; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.event (event_id, occurred_at, kind, refers_to, vin, feature, term, channel, dealer_id, market, currency, gross_minor, vat_bps, entitlement_id, recorded) FROM stdin;
act-01a1ee56-5e00-7fef-ac74-c3e87e133492	1795000000	activation	\N	WAUZZZF45RA000001	NAV_PLUS	P1Y	online	DE-10001	DE	EUR	14900	1900	01a1ee56-5e00-7fef-ac74-c3e87e133492	1
act-01a1ee56-5e00-7a89-971e-293a9324b36f	1795000000	activation	\N	WAUZZZF45RA000001	ACC	subscription	online	DE-10001	DE	EUR	2499	1900	01a1ee56-5e00-7a89-971e-293a9324b36f	2
act-01a1ee56-5e00-7e10-9d8e-7fbd17661051	1795000000	activation	\N	WAUZZZFY7P2000002	NAV_PLUS	P1M	dealer	DE-10002	DE	EUR	1490	1900	01a1ee56-5e00-7e10-9d8e-7fbd17661051	3
act-01a1ee56-5e00-74a0-bc35-58c125f10174	1795000000	activation	\N	3VWD07AJ5EM388202	ACC	subscription	dealer	DE-10002	DE	EUR	2499	1900	01a1ee56-5e00-74a0-bc35-58c125f10174	4
ref-01a1ee56-5e00-7e10-9d8e-7fbd17661051	1795000000	refund	act-01a1ee56-5e00-7e10-9d8e-7fbd17661051	\N	\N	\N	\N	\N	\N	\N	\N	\N	\N	5
act-01a27e88-6e00-7d0d-bf62-354ad8bbafc9	1797419200	activation	\N	3VWD07AJ5EM388202	ACC	subscription	dealer	DE-10002	DE	EUR	2499	1900	01a27e88-6e00-7d0d-bf62-354ad8bbafc9	6
\.


--
-- Data for Name: fod_migration; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.fod_migration (id, applied_at) FROM stdin;
pg-v1	1796623560
pg-v2-sales	1796623560
pg-v3-renewals	1796623560
pg-v4-reinstatement	1796623560
pg-v5-transfer	1796623560
pg-v6-periods	1796623560
pg-v7-outbox-webhooks	1796623560
pg-v8-trust-roots	1796623560
pg-v9-statement-keys	1796623560
\.


--
-- Data for Name: health; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.health (id, checked_at) FROM stdin;
1	1796623561
\.


--
-- Data for Name: idempotency; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.idempotency (principal, key, request_sha256, status, body, created_at) FROM stdin;
purchase-order	U-1	faf2be7f8d900cc8c598d73f7f95d18467591217ee67bb81fa5bf438d6ce1e38	201	\\x7b226f726465725f6964223a22552d31222c226368616e6e656c223a226f6e6c696e65222c226964223a2230316131656535362d356530302d376665662d616337342d633365383765313333343932222c2276696e223a225741555a5a5a4634355241303030303031222c2266656174757265223a224e41565f504c5553222c227465726d223a22503159222c226465616c6572223a2244452d3130303031222c226e6f745f6265666f7265223a313739353030303030302c22657870697265735f6174223a313832363533363030302c227072696365223a7b227465726d223a22503159222c226d61726b6574223a224445222c2263757272656e6379223a22455552222c2267726f73735f6d696e6f72223a31343930302c227661745f627073223a313930307d2c22746f6b656e223a2265794a68624763694f694a46557a49314e694973496d74705a434936496a4e546544647756334e4a5447706f546c566f4f455261637a633465464e564e32526c565774544e575270656c68585455356b6133646b596b45694c434a30655841694f694a6d623251745a573530615852735a57316c626e5172616e6430496e302e65794a7063334d694f694a6f64485277637a6f764c325a765a4335305a584e304969776963335669496a6f6956304656576c7061526a5131556b45774d4441774d4445694c434a7164476b694f6949774d5745785a5755314e6930315a5441774c54646d5a57597459574d334e43316a4d3255344e3255784d7a4d304f5449694c434a70595851694f6a45334f5455774d4441774d444173496d35695a6949364d5463354e5441774d4441774d4377695a586877496a6f784f4449324e544d324d4441774c434a6d5a57463064584a6c496a6f69546b46575831424d56564d694c434a305a584a74496a6f695544465a496977695a47566862475679496a6f69524555744d5441774d44456966512e4352453037654b65375573444251516e37635872436871553830344c787a736b4975535242566b4432593063615848734359703173426f6b6d487765306532314c51444b556b6244554f46786d385f65395063576b67227d	1795000000
purchase-order	U-2	1052ae55c60fd445306ddc98de2509f2b3e255b8305d53854f4372feccc3eeb9	201	\\x7b226f726465725f6964223a22552d32222c226368616e6e656c223a226f6e6c696e65222c226964223a2230316131656535362d356530302d376138392d393731652d323933613933323462333666222c2276696e223a225741555a5a5a4634355241303030303031222c2266656174757265223a22414343222c227465726d223a22737562736372697074696f6e222c226465616c6572223a2244452d3130303031222c226e6f745f6265666f7265223a313739353030303030302c22657870697265735f6174223a313739373539323030302c227072696365223a7b227465726d223a22737562736372697074696f6e222c226d61726b6574223a224445222c2263757272656e6379223a22455552222c2267726f73735f6d696e6f72223a323439392c227661745f627073223a313930307d2c22746f6b656e223a2265794a68624763694f694a46557a49314e694973496d74705a434936496a4e546544647756334e4a5447706f546c566f4f455261637a633465464e564e32526c565774544e575270656c68585455356b6133646b596b45694c434a30655841694f694a6d623251745a573530615852735a57316c626e5172616e6430496e302e65794a7063334d694f694a6f64485277637a6f764c325a765a4335305a584e304969776963335669496a6f6956304656576c7061526a5131556b45774d4441774d4445694c434a7164476b694f6949774d5745785a5755314e6930315a5441774c5464684f446b744f5463785a5330794f544e684f544d794e47497a4e6d59694c434a70595851694f6a45334f5455774d4441774d444173496d35695a6949364d5463354e5441774d4441774d4377695a586877496a6f784e7a6b334e546b794d4441774c434a6d5a57463064584a6c496a6f6951554e44496977696447567962534936496e4e31596e4e6a636d6c7764476c7662694973496d526c5957786c63694936496b52464c5445774d444178496e302e4b42496f69526d4f33326d6b6633316471543768676d4731436e6a557a693037726c5057743834566e6164674d4d595347624133323841704a77766b6f31455a496c59304c74596b3554437275635855456e42704477227d	1795000000
6a37ec1302c2	u-3	8dc096d6b544aadfaf906d8a6aa880549d1ddbd1dfe7340e62365d8e82b1e8be	201	\\x7b226964223a2230316131656535362d356530302d376531302d396438652d376662643137363631303531222c2276696e223a225741555a5a5a4659375032303030303032222c2266656174757265223a224e41565f504c5553222c227465726d223a2250314d222c226465616c6572223a2244452d3130303032222c226e6f745f6265666f7265223a313739353030303030302c22657870697265735f6174223a313739373539323030302c227072696365223a7b227465726d223a2250314d222c226d61726b6574223a224445222c2263757272656e6379223a22455552222c2267726f73735f6d696e6f72223a313439302c227661745f627073223a313930307d2c22746f6b656e223a2265794a68624763694f694a46557a49314e694973496d74705a434936496a4e546544647756334e4a5447706f546c566f4f455261637a633465464e564e32526c565774544e575270656c68585455356b6133646b596b45694c434a30655841694f694a6d623251745a573530615852735a57316c626e5172616e6430496e302e65794a7063334d694f694a6f64485277637a6f764c325a765a4335305a584e304969776963335669496a6f6956304656576c7061526c6b33554449774d4441774d4449694c434a7164476b694f6949774d5745785a5755314e6930315a5441774c54646c4d5441744f5751345a5330335a6d4a6b4d5463324e6a45774e5445694c434a70595851694f6a45334f5455774d4441774d444173496d35695a6949364d5463354e5441774d4441774d4377695a586877496a6f784e7a6b334e546b794d4441774c434a6d5a57463064584a6c496a6f69546b46575831424d56564d694c434a305a584a74496a6f695544464e496977695a47566862475679496a6f69524555744d5441774d44496966512e31537559737a6b3576544c56693973724a5345364e773751394e74397061533239614d774650386854464f637243597272456c726c6244646d47364c64776a51615f436769466a646d6d545259746d66397273344251227d	1795000000
6a37ec1302c2	u-4	bea7c2a71843de99d539aa39e1fa2d99ec7c513b5eb53345e3372ec3e697cfee	201	\\x7b226964223a2230316131656535362d356530302d373461302d626333352d353863313235663130313734222c2276696e223a22335657443037414a35454d333838323032222c2266656174757265223a22414343222c227465726d223a22737562736372697074696f6e222c226465616c6572223a2244452d3130303032222c226e6f745f6265666f7265223a313739353030303030302c22657870697265735f6174223a313739373539323030302c227072696365223a7b227465726d223a22737562736372697074696f6e222c226d61726b6574223a224445222c2263757272656e6379223a22455552222c2267726f73735f6d696e6f72223a323439392c227661745f627073223a313930307d2c22746f6b656e223a2265794a68624763694f694a46557a49314e694973496d74705a434936496a4e546544647756334e4a5447706f546c566f4f455261637a633465464e564e32526c565774544e575270656c68585455356b6133646b596b45694c434a30655841694f694a6d623251745a573530615852735a57316c626e5172616e6430496e302e65794a7063334d694f694a6f64485277637a6f764c325a765a4335305a584e304969776963335669496a6f694d315a585244413351556f315255307a4f4467794d4449694c434a7164476b694f6949774d5745785a5755314e6930315a5441774c54633059544174596d4d7a4e5330314f474d784d6a566d4d5441784e7a51694c434a70595851694f6a45334f5455774d4441774d444173496d35695a6949364d5463354e5441774d4441774d4377695a586877496a6f784e7a6b334e546b794d4441774c434a6d5a57463064584a6c496a6f6951554e44496977696447567962534936496e4e31596e4e6a636d6c7764476c7662694973496d526c5957786c63694936496b52464c5445774d444179496e302e6c497a72714e46746f5f47426779624a45744d4b7041395f306b456779693049387743774e537736526f69334b71377339552d4c46523174423278365a32717851637476634c4969456b494b6d41496c3270745a6377227d	1795000000
\.


--
-- Data for Name: manifest_version; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.manifest_version (vin, version, content_sha256, issued_at) FROM stdin;
WAUZZZF45RA000001	1	0932be44bf5fa993ecf58bb97fa5b62d9cc94a9364f4d2a58f37d75a95d085bc	1795000000
\.


--
-- Data for Name: objection; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.objection (id, credit_note, dealer_id, event_id, reason, status, raised_at, raised_by, resolution, resolved_at, resolved_by) FROM stdin;
obj-c3a3d609b1740986465204356f39bb1b	GS-2026-000001	DE-10001	\N	the tier bonus is missing	adjusted	1796083260	dealer:cbe3a3e6ab48:DE-10001	adjustment 1234 minor units in the next period to close: tier bonus of November	1796083260	auditor:281ca983083b
\.


--
-- Data for Name: outbox; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.outbox (seq, type, occurred_at, subject, dealer_id, data) FROM stdin;
8	activation.created	1795000000	01a1ee56-5e00-7fef-ac74-c3e87e133492	DE-10001	{"entitlement" : {"id" : "01a1ee56-5e00-7fef-ac74-c3e87e133492", "vin" : "WAUZZZF45RA000001", "feature" : "NAV_PLUS", "term" : "P1Y", "dealer_id" : "DE-10001", "starts_at" : "2026-11-18T11:06:40Z", "ends_at" : "2027-11-18T11:06:40Z", "revoked_at" : null, "revoke_reason" : null, "cancelled" : false}, "sale" : {"channel" : "online", "market" : "DE", "currency" : "EUR", "gross_minor" : 14900, "vat_bps" : 1900, "sold_at" : "2026-11-18T11:06:40Z"}, "refunded_at" : null}
9	activation.created	1795000000	01a1ee56-5e00-7a89-971e-293a9324b36f	DE-10001	{"entitlement" : {"id" : "01a1ee56-5e00-7a89-971e-293a9324b36f", "vin" : "WAUZZZF45RA000001", "feature" : "ACC", "term" : "subscription", "dealer_id" : "DE-10001", "starts_at" : "2026-11-18T11:06:40Z", "ends_at" : "2026-12-18T11:06:40Z", "revoked_at" : null, "revoke_reason" : null, "cancelled" : false}, "sale" : {"channel" : "online", "market" : "DE", "currency" : "EUR", "gross_minor" : 2499, "vat_bps" : 1900, "sold_at" : "2026-11-18T11:06:40Z"}, "refunded_at" : null}
10	activation.created	1795000000	01a1ee56-5e00-7e10-9d8e-7fbd17661051	DE-10002	{"entitlement" : {"id" : "01a1ee56-5e00-7e10-9d8e-7fbd17661051", "vin" : "WAUZZZFY7P2000002", "feature" : "NAV_PLUS", "term" : "P1M", "dealer_id" : "DE-10002", "starts_at" : "2026-11-18T11:06:40Z", "ends_at" : "2026-12-18T11:06:40Z", "revoked_at" : null, "revoke_reason" : null, "cancelled" : false}, "sale" : {"channel" : "dealer", "market" : "DE", "currency" : "EUR", "gross_minor" : 1490, "vat_bps" : 1900, "sold_at" : "2026-11-18T11:06:40Z"}, "refunded_at" : null}
11	activation.created	1795000000	01a1ee56-5e00-74a0-bc35-58c125f10174	DE-10002	{"entitlement" : {"id" : "01a1ee56-5e00-74a0-bc35-58c125f10174", "vin" : "3VWD07AJ5EM388202", "feature" : "ACC", "term" : "subscription", "dealer_id" : "DE-10002", "starts_at" : "2026-11-18T11:06:40Z", "ends_at" : "2026-12-18T11:06:40Z", "revoked_at" : null, "revoke_reason" : null, "cancelled" : false}, "sale" : {"channel" : "dealer", "market" : "DE", "currency" : "EUR", "gross_minor" : 2499, "vat_bps" : 1900, "sold_at" : "2026-11-18T11:06:40Z"}, "refunded_at" : null}
12	activation.refunded	1795000000	01a1ee56-5e00-7e10-9d8e-7fbd17661051	DE-10002	{"entitlement" : {"id" : "01a1ee56-5e00-7e10-9d8e-7fbd17661051", "vin" : "WAUZZZFY7P2000002", "feature" : "NAV_PLUS", "term" : "P1M", "dealer_id" : "DE-10002", "starts_at" : "2026-11-18T11:06:40Z", "ends_at" : "2026-12-18T11:06:40Z", "revoked_at" : "2026-11-18T11:06:40Z", "revoke_reason" : "refund", "cancelled" : false}, "sale" : {"channel" : "dealer", "market" : "DE", "currency" : "EUR", "gross_minor" : 1490, "vat_bps" : 1900, "sold_at" : "2026-11-18T11:06:40Z"}, "refunded_at" : "2026-11-18T11:06:40Z"}
13	entitlement.revoked	1795000000	01a1ee56-5e00-7e10-9d8e-7fbd17661051	DE-10002	{"entitlement" : {"id" : "01a1ee56-5e00-7e10-9d8e-7fbd17661051", "vin" : "WAUZZZFY7P2000002", "feature" : "NAV_PLUS", "term" : "P1M", "dealer_id" : "DE-10002", "starts_at" : "2026-11-18T11:06:40Z", "ends_at" : "2026-12-18T11:06:40Z", "revoked_at" : "2026-11-18T11:06:40Z", "revoke_reason" : "refund", "cancelled" : false}, "sale" : {"channel" : "dealer", "market" : "DE", "currency" : "EUR", "gross_minor" : 1490, "vat_bps" : 1900, "sold_at" : "2026-11-18T11:06:40Z"}, "refunded_at" : "2026-11-18T11:06:40Z"}
14	entitlement.revoked	1795000000	01a1ee56-5e00-7fef-ac74-c3e87e133492	DE-10001	{"entitlement" : {"id" : "01a1ee56-5e00-7fef-ac74-c3e87e133492", "vin" : "WAUZZZF45RA000001", "feature" : "NAV_PLUS", "term" : "P1Y", "dealer_id" : "DE-10001", "starts_at" : "2026-11-18T11:06:40Z", "ends_at" : "2027-11-18T11:06:40Z", "revoked_at" : "2026-11-18T11:06:40Z", "revoke_reason" : "fraud check", "cancelled" : false}, "sale" : {"channel" : "online", "market" : "DE", "currency" : "EUR", "gross_minor" : 14900, "vat_bps" : 1900, "sold_at" : "2026-11-18T11:06:40Z"}, "refunded_at" : null}
15	entitlement.reinstated	1795000000	01a1ee56-5e00-7fef-ac74-c3e87e133492	DE-10001	{"entitlement" : {"id" : "01a1ee56-5e00-7fef-ac74-c3e87e133492", "vin" : "WAUZZZF45RA000001", "feature" : "NAV_PLUS", "term" : "P1Y", "dealer_id" : "DE-10001", "starts_at" : "2026-11-18T11:06:40Z", "ends_at" : "2027-11-18T11:06:40Z", "revoked_at" : null, "revoke_reason" : null, "cancelled" : false}, "sale" : {"channel" : "online", "market" : "DE", "currency" : "EUR", "gross_minor" : 14900, "vat_bps" : 1900, "sold_at" : "2026-11-18T11:06:40Z"}, "refunded_at" : null}
16	subscription.cancelled	1795000000	01a1ee56-5e00-7a89-971e-293a9324b36f	DE-10001	{"entitlement" : {"id" : "01a1ee56-5e00-7a89-971e-293a9324b36f", "vin" : "WAUZZZF45RA000001", "feature" : "ACC", "term" : "subscription", "dealer_id" : "DE-10001", "starts_at" : "2026-11-18T11:06:40Z", "ends_at" : "2026-12-18T11:06:40Z", "revoked_at" : null, "revoke_reason" : null, "cancelled" : true}, "sale" : {"channel" : "online", "market" : "DE", "currency" : "EUR", "gross_minor" : 2499, "vat_bps" : 1900, "sold_at" : "2026-11-18T11:06:40Z"}, "refunded_at" : null}
17	vehicle.dealer_assigned	1795000000	WAUZZZFY7P2000002	DE-10002	{"vehicle" : {"vin" : "WAUZZZFY7P2000002", "model" : "Q5", "model_year" : 2023, "market" : "DE", "dealer_id" : "DE-10002"}, "servicing_dealer" : "DE-10002", "transferred_at" : null}
18	vehicle.transferred	1795000000	WAUZZZFY7P2000002	DE-10002	{"vehicle" : {"vin" : "WAUZZZFY7P2000002", "model" : "Q5", "model_year" : 2023, "market" : "DE", "dealer_id" : "DE-10002"}, "servicing_dealer" : "DE-10002", "transferred_at" : "2026-11-18T11:06:40Z"}
19	manifest.versioned	1795000000	WAUZZZF45RA000001	\N	{"vin" : "WAUZZZF45RA000001", "version" : 1}
20	period.closed	1796083260	2026-11	\N	{"period" : "2026-11", "credit_notes" : ["GS-2026-000001", "GS-2026-000002"]}
21	objection.raised	1796083260	obj-c3a3d609b1740986465204356f39bb1b	DE-10001	{"id" : "obj-c3a3d609b1740986465204356f39bb1b", "credit_note" : "GS-2026-000001", "dealer_id" : "DE-10001", "event_id" : null, "status" : "open", "reason" : "the tier bonus is missing", "resolution" : null}
22	objection.adjusted	1796083260	obj-c3a3d609b1740986465204356f39bb1b	DE-10001	{"id" : "obj-c3a3d609b1740986465204356f39bb1b", "credit_note" : "GS-2026-000001", "dealer_id" : "DE-10001", "event_id" : null, "status" : "adjusted", "reason" : "the tier bonus is missing", "resolution" : "adjustment 1234 minor units in the next period to close: tier bonus of November"}
23	subscription.renewed	1797419200	01a27e88-6e00-7d0d-bf62-354ad8bbafc9	DE-10002	{"entitlement" : {"id" : "01a27e88-6e00-7d0d-bf62-354ad8bbafc9", "vin" : "3VWD07AJ5EM388202", "feature" : "ACC", "term" : "subscription", "dealer_id" : "DE-10002", "starts_at" : "2026-12-18T11:06:40Z", "ends_at" : "2027-01-18T11:06:40Z", "revoked_at" : null, "revoke_reason" : null, "cancelled" : false}, "sale" : {"channel" : "dealer", "market" : "DE", "currency" : "EUR", "gross_minor" : 2499, "vat_bps" : 1900, "sold_at" : "2026-12-16T11:06:40Z"}, "refunded_at" : null}
25	keys.rotated	1797419200	1	\N	{"root_version" : 1, "issuing_keys" : [{"kid":"fixture-1","not_after":"2027-01-01T00:00:00Z","not_before":"2026-01-01T00:00:00Z","scope":["entitlement","manifest"]}]}
\.


--
-- Data for Name: ownership_transfer; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.ownership_transfer (vin, effective_at, recorded_at) FROM stdin;
WAUZZZFY7P2000002	1795000000	1795000000
\.


--
-- Data for Name: period_close; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.period_close (period, closed_at, actor, rules_version, events_sha256, event_mark, audit_seq, audit_sha256, statement, signature) FROM stdin;
2026-11	1796083260	auditor:281ca983083b	2026.12	dca1c2c5a05ecc86a189f04793eab80861e4a11bcfbaabd1fb2cb660ca991b1f	5	19	60ab53226c54e8636979b4f166ad7df0adfdf9bb106f105703012dedee0d4c15	{\n  "audit_head" : {\n    "seq" : 19,\n    "sha256" : "60ab53226c54e8636979b4f166ad7df0adfdf9bb106f105703012dedee0d4c15"\n  },\n  "closed_at" : "2026-12-01T00:01:00Z",\n  "event_mark" : 5,\n  "events_sha256" : "dca1c2c5a05ecc86a189f04793eab80861e4a11bcfbaabd1fb2cb660ca991b1f",\n  "format" : "fod-statement/1",\n  "issuer" : "https://fod.test",\n  "period" : "2026-11",\n  "rules_version" : "2026.12",\n  "statements" : [\n    {\n      "activations" : 2,\n      "adjustment" : 0,\n      "adjustments" : 0,\n      "clawback" : 0,\n      "clawbacks" : 0,\n      "currency" : "EUR",\n      "dealer_id" : "DE-10001",\n      "gross" : 17399,\n      "net" : 14621,\n      "payable" : 731,\n      "share" : 731,\n      "tier_bonus_bps" : 0\n    },\n    {\n      "activations" : 2,\n      "adjustment" : 0,\n      "adjustments" : 0,\n      "clawback" : 350,\n      "clawbacks" : 1,\n      "currency" : "EUR",\n      "dealer_id" : "DE-10002",\n      "gross" : 3989,\n      "net" : 3352,\n      "payable" : 210,\n      "share" : 560,\n      "tier_bonus_bps" : 0\n    }\n  ]\n}\n	eyJhbGciOiJFUzI1NiIsImtpZCI6IjNTeDdwV3NJTGpoTlVoOERaczc4eFNVN2RlVWtTNWRpelhXTU5ka3dkYkEiLCJ0eXAiOiJmb2Qtc3RhdGVtZW50K2p3cyJ9..cRD5lLbqU2KPBYCeYSX40s4xFrR1zEuAKpIPZd0DLeihhcWCbOc2Zxdml_cCPnKj_mkgg60BLxy3Kk2jB4DYEA
\.


--
-- Data for Name: reinstatement; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.reinstatement (entitlement_id, reinstated_at, revoked_at, revoke_reason, reason) FROM stdin;
01a1ee56-5e00-7fef-ac74-c3e87e133492	1795000000	1795000000	fraud check	cleared
\.


--
-- Data for Name: renewal; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.renewal (previous_id, next_id, renewed_at) FROM stdin;
01a1ee56-5e00-74a0-bc35-58c125f10174	01a27e88-6e00-7d0d-bf62-354ad8bbafc9	1797419200
\.


--
-- Data for Name: shared_secret; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.shared_secret (name, secret) FROM stdin;
dealer-login-csrf	794201aeacd0fd5657b8e0e1a675351c67a6a4cb8dc69f8d29c22a5ff215ca5e
dealer-csrf	930afe7341fdc9228a10eb21e240faa3c8cbf95bd933a357189cc96edd6b6de0
\.


--
-- Data for Name: statement_key; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.statement_key (kid, jwk, first_used_at) FROM stdin;
3Sx7pWsILjhNUh8DZs78xSU7deUkS5dizXWMNdkwdbA	{"keys":[{"kty":"EC","crv":"P-256","x":"YuWR625iyTXYxQ_NjXryJ5bJgyeHtSpYse01BnndUro","y":"YtxwnClRvlFZcm9I4oZo4WrddFVOany_KXLw7mc4ZZs","kid":"3Sx7pWsILjhNUh8DZs78xSU7deUkS5dizXWMNdkwdbA","alg":"ES256","use":"sig"}]}	1796083260
fixture-statement	{"kty":"EC"}	1797419200
\.


--
-- Data for Name: trust_root; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.trust_root (version, keys, taken_at) FROM stdin;
1	[{"kid":"fixture-1","not_after":"2027-01-01T00:00:00Z","not_before":"2026-01-01T00:00:00Z","scope":["entitlement","manifest"]}]	1797419200
\.


--
-- Data for Name: vehicle; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.vehicle (vin, model, model_year, market, equipment, dealer_id, created_at) FROM stdin;
WVWZZZ1KZAW394821	A4	2024	DE	8G4,PCF	DE-10001	1795000000
WAUZZZF45RA000001	A6	2025	DE	7UG,8G4,9VD,PCF	DE-10001	1795000000
WAUZZZFY7P2000002	Q5	2023	DE	7UG,8IT	DE-10002	1795000000
VF1LM1B0H36666155	A4	2019	FR	8G4	FR-20001	1795000000
JN1DA31D63T505967	A6	2024	JP	7UG,8G4	JP-30001	1795000000
3VWD07AJ5EM388202	A4	2022	DE	7UG,8G4	DE-10002	1795000000
\.


--
-- Data for Name: vehicle_dealer; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.vehicle_dealer (vin, valid_from, dealer_id, recorded_at) FROM stdin;
WAUZZZFY7P2000002	1795086400	DE-10001	1795000000
\.


--
-- Data for Name: web_session; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.web_session (id_sha256, api_key_id, csrf, created_at, expires_at) FROM stdin;
f29551bd82b9554303c29f4ce63204096ef47c0fd9b30d73ab1eab16102005d3	cbe3a3e6ab48	a9gWvenrI0aOeFMoMh2EnSYssMRJvFSq-CYecN7JrX0	1797419200	1797422800
\.


--
-- Data for Name: webhook_delivery; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.webhook_delivery (endpoint_id, seq, status, attempts, first_attempt_at, last_attempt_at, last_status, last_error) FROM stdin;
wh-ebd0d747aef92fd57449e56c190f1df8	8	delivered	1	1797419200000	1797419200000	204	\N
wh-ebd0d747aef92fd57449e56c190f1df8	9	delivered	1	1797419200000	1797419200000	204	\N
\.


--
-- Data for Name: webhook_endpoint; Type: TABLE DATA; Schema: fod_upgrade_fixture; Owner: -
--

COPY fod_upgrade_fixture.webhook_endpoint (id, url, types, secret, created_at, deleted_at, "position", next_attempt_ms, lease_owner, lease_until_ms) FROM stdin;
wh-ebd0d747aef92fd57449e56c190f1df8	https://hooks.example/fod	*	whsec_fixture	1795000000	\N	9	0	\N	0
\.


--
-- Name: event_recorded_seq; Type: SEQUENCE SET; Schema: fod_upgrade_fixture; Owner: -
--

SELECT pg_catalog.setval('fod_upgrade_fixture.event_recorded_seq', 6, true);


--
-- Name: adjustment adjustment_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.adjustment
    ADD CONSTRAINT adjustment_pkey PRIMARY KEY (id);


--
-- Name: api_key api_key_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.api_key
    ADD CONSTRAINT api_key_pkey PRIMARY KEY (id);


--
-- Name: api_key api_key_secret_sha256_key; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.api_key
    ADD CONSTRAINT api_key_secret_sha256_key UNIQUE (secret_sha256);


--
-- Name: audit audit_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.audit
    ADD CONSTRAINT audit_pkey PRIMARY KEY (seq);


--
-- Name: cancellation cancellation_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.cancellation
    ADD CONSTRAINT cancellation_pkey PRIMARY KEY (entitlement_id);


--
-- Name: catalog_equipment_rule catalog_equipment_rule_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.catalog_equipment_rule
    ADD CONSTRAINT catalog_equipment_rule_pkey PRIMARY KEY (feature, kind, equipment);


--
-- Name: catalog_feature_model catalog_feature_model_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.catalog_feature_model
    ADD CONSTRAINT catalog_feature_model_pkey PRIMARY KEY (feature, model);


--
-- Name: catalog_feature catalog_feature_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.catalog_feature
    ADD CONSTRAINT catalog_feature_pkey PRIMARY KEY (code);


--
-- Name: catalog_price catalog_price_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.catalog_price
    ADD CONSTRAINT catalog_price_pkey PRIMARY KEY (feature, market, term);


--
-- Name: catalog_version catalog_version_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.catalog_version
    ADD CONSTRAINT catalog_version_pkey PRIMARY KEY (id);


--
-- Name: closed_line closed_line_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.closed_line
    ADD CONSTRAINT closed_line_pkey PRIMARY KEY (period, n);


--
-- Name: consent consent_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.consent
    ADD CONSTRAINT consent_pkey PRIMARY KEY (entitlement_id);


--
-- Name: credit_note credit_note_period_dealer_id_currency_key; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.credit_note
    ADD CONSTRAINT credit_note_period_dealer_id_currency_key UNIQUE (period, dealer_id, currency);


--
-- Name: credit_note credit_note_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.credit_note
    ADD CONSTRAINT credit_note_pkey PRIMARY KEY (number);


--
-- Name: credit_note credit_note_year_sequence_key; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.credit_note
    ADD CONSTRAINT credit_note_year_sequence_key UNIQUE (year, sequence);


--
-- Name: dealer dealer_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.dealer
    ADD CONSTRAINT dealer_pkey PRIMARY KEY (id);


--
-- Name: entitlement entitlement_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.entitlement
    ADD CONSTRAINT entitlement_pkey PRIMARY KEY (id);


--
-- Name: equipment equipment_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.equipment
    ADD CONSTRAINT equipment_pkey PRIMARY KEY (code);


--
-- Name: event event_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.event
    ADD CONSTRAINT event_pkey PRIMARY KEY (event_id);


--
-- Name: fod_migration fod_migration_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.fod_migration
    ADD CONSTRAINT fod_migration_pkey PRIMARY KEY (id);


--
-- Name: health health_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.health
    ADD CONSTRAINT health_pkey PRIMARY KEY (id);


--
-- Name: idempotency idempotency_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.idempotency
    ADD CONSTRAINT idempotency_pkey PRIMARY KEY (principal, key);


--
-- Name: manifest_version manifest_version_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.manifest_version
    ADD CONSTRAINT manifest_version_pkey PRIMARY KEY (vin);


--
-- Name: objection objection_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.objection
    ADD CONSTRAINT objection_pkey PRIMARY KEY (id);


--
-- Name: outbox outbox_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.outbox
    ADD CONSTRAINT outbox_pkey PRIMARY KEY (seq);


--
-- Name: ownership_transfer ownership_transfer_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.ownership_transfer
    ADD CONSTRAINT ownership_transfer_pkey PRIMARY KEY (vin, effective_at);


--
-- Name: period_close period_close_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.period_close
    ADD CONSTRAINT period_close_pkey PRIMARY KEY (period);


--
-- Name: renewal renewal_next_id_key; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.renewal
    ADD CONSTRAINT renewal_next_id_key UNIQUE (next_id);


--
-- Name: renewal renewal_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.renewal
    ADD CONSTRAINT renewal_pkey PRIMARY KEY (previous_id);


--
-- Name: shared_secret shared_secret_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.shared_secret
    ADD CONSTRAINT shared_secret_pkey PRIMARY KEY (name);


--
-- Name: statement_key statement_key_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.statement_key
    ADD CONSTRAINT statement_key_pkey PRIMARY KEY (kid);


--
-- Name: trust_root trust_root_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.trust_root
    ADD CONSTRAINT trust_root_pkey PRIMARY KEY (version);


--
-- Name: vehicle_dealer vehicle_dealer_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.vehicle_dealer
    ADD CONSTRAINT vehicle_dealer_pkey PRIMARY KEY (vin, valid_from);


--
-- Name: vehicle vehicle_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.vehicle
    ADD CONSTRAINT vehicle_pkey PRIMARY KEY (vin);


--
-- Name: web_session web_session_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.web_session
    ADD CONSTRAINT web_session_pkey PRIMARY KEY (id_sha256);


--
-- Name: webhook_delivery webhook_delivery_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.webhook_delivery
    ADD CONSTRAINT webhook_delivery_pkey PRIMARY KEY (endpoint_id, seq);


--
-- Name: webhook_endpoint webhook_endpoint_pkey; Type: CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.webhook_endpoint
    ADD CONSTRAINT webhook_endpoint_pkey PRIMARY KEY (id);


--
-- Name: audit_subject; Type: INDEX; Schema: fod_upgrade_fixture; Owner: -
--

CREATE INDEX audit_subject ON fod_upgrade_fixture.audit USING btree (subject);


--
-- Name: closed_line_dealer; Type: INDEX; Schema: fod_upgrade_fixture; Owner: -
--

CREATE INDEX closed_line_dealer ON fod_upgrade_fixture.closed_line USING btree (dealer_id, period, n);


--
-- Name: entitlement_expiry; Type: INDEX; Schema: fod_upgrade_fixture; Owner: -
--

CREATE INDEX entitlement_expiry ON fod_upgrade_fixture.entitlement USING btree (expires_at) WHERE (revoked_at IS NULL);


--
-- Name: entitlement_revoked; Type: INDEX; Schema: fod_upgrade_fixture; Owner: -
--

CREATE INDEX entitlement_revoked ON fod_upgrade_fixture.entitlement USING btree (revoked_at) WHERE (revoked_at IS NOT NULL);


--
-- Name: entitlement_vin; Type: INDEX; Schema: fod_upgrade_fixture; Owner: -
--

CREATE INDEX entitlement_vin ON fod_upgrade_fixture.entitlement USING btree (vin);


--
-- Name: event_dealer; Type: INDEX; Schema: fod_upgrade_fixture; Owner: -
--

CREATE INDEX event_dealer ON fod_upgrade_fixture.event USING btree (dealer_id, occurred_at);


--
-- Name: event_recorded; Type: INDEX; Schema: fod_upgrade_fixture; Owner: -
--

CREATE UNIQUE INDEX event_recorded ON fod_upgrade_fixture.event USING btree (recorded);


--
-- Name: event_refers_to; Type: INDEX; Schema: fod_upgrade_fixture; Owner: -
--

CREATE INDEX event_refers_to ON fod_upgrade_fixture.event USING btree (refers_to);


--
-- Name: event_time; Type: INDEX; Schema: fod_upgrade_fixture; Owner: -
--

CREATE INDEX event_time ON fod_upgrade_fixture.event USING btree (occurred_at);


--
-- Name: outbox_dealer; Type: INDEX; Schema: fod_upgrade_fixture; Owner: -
--

CREATE INDEX outbox_dealer ON fod_upgrade_fixture.outbox USING btree (dealer_id, seq);


--
-- Name: reinstatement_time; Type: INDEX; Schema: fod_upgrade_fixture; Owner: -
--

CREATE INDEX reinstatement_time ON fod_upgrade_fixture.reinstatement USING btree (reinstated_at);


--
-- Name: web_session_expiry; Type: INDEX; Schema: fod_upgrade_fixture; Owner: -
--

CREATE INDEX web_session_expiry ON fod_upgrade_fixture.web_session USING btree (expires_at);


--
-- Name: adjustment adjustment_objection_id_fkey; Type: FK CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.adjustment
    ADD CONSTRAINT adjustment_objection_id_fkey FOREIGN KEY (objection_id) REFERENCES fod_upgrade_fixture.objection(id);


--
-- Name: catalog_equipment_rule catalog_equipment_rule_feature_fkey; Type: FK CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.catalog_equipment_rule
    ADD CONSTRAINT catalog_equipment_rule_feature_fkey FOREIGN KEY (feature) REFERENCES fod_upgrade_fixture.catalog_feature(code) ON DELETE CASCADE;


--
-- Name: catalog_feature_model catalog_feature_model_feature_fkey; Type: FK CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.catalog_feature_model
    ADD CONSTRAINT catalog_feature_model_feature_fkey FOREIGN KEY (feature) REFERENCES fod_upgrade_fixture.catalog_feature(code) ON DELETE CASCADE;


--
-- Name: catalog_price catalog_price_feature_fkey; Type: FK CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.catalog_price
    ADD CONSTRAINT catalog_price_feature_fkey FOREIGN KEY (feature) REFERENCES fod_upgrade_fixture.catalog_feature(code) ON DELETE CASCADE;


--
-- Name: objection objection_credit_note_fkey; Type: FK CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.objection
    ADD CONSTRAINT objection_credit_note_fkey FOREIGN KEY (credit_note) REFERENCES fod_upgrade_fixture.credit_note(number);


--
-- Name: web_session web_session_api_key_id_fkey; Type: FK CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.web_session
    ADD CONSTRAINT web_session_api_key_id_fkey FOREIGN KEY (api_key_id) REFERENCES fod_upgrade_fixture.api_key(id);


--
-- Name: webhook_delivery webhook_delivery_endpoint_id_fkey; Type: FK CONSTRAINT; Schema: fod_upgrade_fixture; Owner: -
--

ALTER TABLE ONLY fod_upgrade_fixture.webhook_delivery
    ADD CONSTRAINT webhook_delivery_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES fod_upgrade_fixture.webhook_endpoint(id);


--
-- PostgreSQL database dump complete
--

\unrestrict girwDjCfbEToLnUcPvrJkgwumMVaE8bE3WXPwqYughprZaerZyqu6cwooBech8o

