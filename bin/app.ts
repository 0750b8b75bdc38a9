#!/usr/bin/env node
/** The CDK app entry (`cdk.json` runs it with tsx). Environment-agnostic: no account or region is resolved here. */
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';

buildApp(new App());
