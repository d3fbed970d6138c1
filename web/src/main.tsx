// Entry point: no inline script anywhere (CSP script-src 'self'); styles come from app.css.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import './app.css';

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root element');
createRoot(root).render(<StrictMode><App /></StrictMode>);
