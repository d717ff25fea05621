'use client';

import MuiLink, { type LinkProps as MuiLinkProps } from '@mui/material/Link';
import NextLink from 'next/link';

/** A MUI-styled link that navigates client-side. */
export function Link({ href, ...props }: Omit<MuiLinkProps, 'href'> & { href: string }) {
  return <MuiLink component={NextLink} href={href} underline="hover" {...props} />;
}
